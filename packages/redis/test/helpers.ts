import { execFile } from 'node:child_process'
import type { CacheEntry, StoreEvent } from '@strata-cache/core'
import type { RedisStore } from '../src/index.ts'

/**
 * commandTimeout for functional tests. On a loaded CI machine a 100 ms deadline can turn a slow
 * answer into a miss and make a test about tags or batches flaky; the outage tests, which are about
 * deadlines, run with the default (100 ms).
 */
export const TEST_COMMAND_TIMEOUT = '1s'

let counter = 0

/** A prefix no other test uses, so one shared server needs no flush. */
export function uniquePrefix(label = 't'): string {
  counter++
  return `${label}${process.pid}x${counter}:`
}

/** An entry fresh for `ttlMs` from `now`, with `graceMs` of grace. */
export function entry<T>(
  value: T,
  options: { ttlMs?: number; graceMs?: number; now?: number; tags?: readonly string[] } = {},
): CacheEntry<T> {
  const now = options.now ?? Date.now()
  const expiresAt = now + (options.ttlMs ?? 60_000)
  const e: CacheEntry<T> = {
    value,
    createdAt: now,
    expiresAt,
    staleUntil: expiresAt + (options.graceMs ?? 0),
  }
  if (options.tags) e.tags = options.tags
  return e
}

/** Collects a store's events for assertions. */
export function recordEvents(store: RedisStore): StoreEvent[] {
  const events: StoreEvent[] = []
  store.subscribe((event) => events.push(event))
  return events
}

/** Runs redis-cli against a test server, the way an operator would write a key by hand. */
export function redisCli(port: number, args: readonly string[], password?: string): Promise<string> {
  const auth = password === undefined ? [] : ['-a', password, '--no-auth-warning']
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', '127.0.0.1', '-p', String(port), ...auth, ...args],
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message} ${stderr}`))
        else resolve(stdout.trim())
      },
    )
  })
}

/** Calls of one command so far, from INFO commandstats (proves which commands an operation used). */
export function commandCalls(info: string, command: string): number {
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)
  return match ? Number(match[1]) : 0
}
