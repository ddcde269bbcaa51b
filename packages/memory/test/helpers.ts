import type { CacheEntry } from '@strata-cache/core'
import { createManualClock, type ManualClock } from '@strata-cache/test-suite'
import { MemoryStore, type MemoryStoreOptions } from '../src/index.ts'

export const START = Date.UTC(2026, 0, 1)

/** A store on a manual clock starting at START. */
export function setup(options: MemoryStoreOptions = {}): { store: MemoryStore; clock: ManualClock } {
  const clock = createManualClock(START)
  return { store: new MemoryStore({ now: clock.now, ...options }), clock }
}

/** An entry written at `at`, fresh for ttl ms then stale for grace ms. */
export function entryAt<T>(
  at: number,
  value: T,
  options: { ttl?: number; grace?: number; tags?: string[] } = {},
): CacheEntry<T> {
  const expiresAt = at + (options.ttl ?? 60_000)
  const entry: CacheEntry<T> = {
    value,
    createdAt: at,
    expiresAt,
    staleUntil: expiresAt + (options.grace ?? 0),
  }
  if (options.tags !== undefined) entry.tags = options.tags
  return entry
}

/** The error a promise rejected with (fails the test if it resolved). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (error: unknown) => error,
  )
}

/** Keys currently readable, in the given order. */
export function present(store: MemoryStore, keys: readonly string[]): string[] {
  return keys.filter((key) => store.peek(key) !== undefined)
}

/** What `run` threw (fails the test if it did not throw). */
export function thrownBy(run: () => void): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}
