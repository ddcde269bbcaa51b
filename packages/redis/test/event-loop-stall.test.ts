import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { entry, recordEvents, uniquePrefix } from './helpers.ts'

/** Blocks this process's event loop, as a CPU-bound task, GC or a busy host does. */
function blockFor(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // busy
  }
}

// A healthy Redis answers in well under the 100 ms deadline, but this process does not read the
// answers until its event loop is free again, after the deadline. Those reads must not become
// misses, and the stall must not open the breaker (which would skip Redis for the next 500 ms).
describe('RedisStore when this process stalls (default 100 ms commandTimeout)', () => {
  let redis: RedisServer
  let store: RedisStore

  beforeAll(async () => {
    redis = await startRedisServer()
    store = new RedisStore({ url: redis.url, prefix: uniquePrefix('stall') })
    await store.ready()
    for (let i = 0; i < 50; i++) await store.set(`k${i}`, entry(i))
  })

  afterAll(async () => {
    await store?.close()
    await redis?.stop()
  })

  it('returns every value whose reply arrived while the loop was blocked past the deadline', async () => {
    const events = recordEvents(store)
    const reads = Array.from({ length: 50 }, (_, i) => store.get<number>(`k${i}`))
    blockFor(300)
    const entries = await Promise.all(reads)
    expect(entries.map((e) => e?.value)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(events.filter((e) => e.type === 'error')).toEqual([])
    expect(store.breakerState).toBe('closed')
  })

  it('counts the timeouts of one stall as one breaker failure', async () => {
    // SIGSTOP: Redis really does not answer, and the process is blocked past the deadline twice: the
    // first stall restarts every deadline, the second makes the restarted ones fire late together.
    redis.pause()
    try {
      const reads = Array.from({ length: 50 }, (_, i) => store.get(`k${i}`))
      blockFor(300)
      // A timer queued now runs after the expired deadlines have restarted (their list expires first).
      await new Promise((resolve) => setTimeout(resolve, 0))
      blockFor(300)
      expect((await Promise.all(reads)).every((e) => e === undefined)).toBe(true)
      const timeouts = (await store.stats())[0]!.details as { consecutiveFailures: number }
      expect(timeouts.consecutiveFailures).toBe(1)
      expect(store.breakerState).toBe('closed')
    } finally {
      redis.resume()
    }
  })

  it('counts a hung server as failing once the restarted deadline passes with the loop free', async () => {
    await store.get('k0') // a success: the consecutive count starts from zero
    const events = recordEvents(store)
    redis.pause()
    try {
      const reads = Array.from({ length: 10 }, (_, i) => store.get(`k${i}`))
      blockFor(300)
      expect((await Promise.all(reads)).every((e) => e === undefined)).toBe(true)
      // Ten real timeouts (not one stall): the breaker opens after five.
      expect(store.breakerState).toBe('open')
      const timeout = events.find((e) => e.type === 'error')
      expect(String((timeout as { error: unknown }).error)).toMatch(
        /no answer within 100 ms \(commandTimeout\), not counting \d+ ms this process's event loop was blocked/,
      )
    } finally {
      redis.resume()
    }
  })
})
