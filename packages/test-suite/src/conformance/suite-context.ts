import { randomBytes } from 'node:crypto'
import type { CacheEntry, CacheStore } from '@strata-cache/core'
import type { TestContext } from 'vitest'
import type { StoreCapabilities } from './options.ts'

export const MINUTE = 60_000

/** Timing and tags of an entry written by {@link SuiteContext.entry}. */
export interface EntryShape {
  /** Fresh for this long. @default 10 minutes */
  ttl?: number
  /** Then stale for this long. @default 0 */
  grace?: number
  tags?: string[]
}

/** What every behaviour group of the suite works with; one per `describeStoreConformance` call. */
export interface SuiteContext {
  /** The store's capabilities, defaults applied. */
  readonly caps: Required<StoreCapabilities>
  /** This test's prefix (fresh per test). */
  prefix(): string
  /** Opens a store on this test's prefix (or another), closed after the test. */
  open(storePrefix?: string): Promise<CacheStore>
  /** The time the store sees. */
  now(): number
  /** Advances the suite's manual clock (only meaningful with `injectableClock`). */
  advance(ms: number): void
  /** An entry written now: fresh for `ttl`, then stale for `grace`. */
  entry<T>(value: T, shape?: EntryShape): CacheEntry<T>
  /** Skips the test, saying why, unless the store declares `capability` as `wanted`. */
  needs(context: TestContext, capability: keyof StoreCapabilities, wanted: boolean, why: string): void
}

/** `t<random>:` — unique per test so tests never see each other's keys. */
export function freshPrefix(): string {
  return `t${randomBytes(6).toString('hex')}:`
}

/**
 * The error `run` rejected with. Fails when it resolves, or when it throws synchronously: callers
 * of a Promise-returning store method handle failures with `.catch`.
 */
export async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  let promise: Promise<unknown>
  try {
    promise = run()
  } catch (error) {
    throw new Error(`expected a rejected promise, but the call threw synchronously: ${String(error)}`)
  }
  return promise.then(
    () => {
      throw new Error('expected a rejection, but the promise resolved')
    },
    (error: unknown) => error,
  )
}
