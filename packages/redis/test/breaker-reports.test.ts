import { Cache, CacheError, type StoreEvent } from '@strata-cache/core'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { CircuitOpenReports } from '../src/circuit-open-reports.ts'
import { RedisStore } from '../src/index.ts'
import { StoreEvents } from '../src/store-events.ts'
import { uniquePrefix } from './helpers.ts'

type ErrorEvent = Extract<StoreEvent, { type: 'error' }>

describe('CircuitOpenReports', () => {
  it('reports the first refused call of an outage in full, the repeats as counts per operation on the next state change', () => {
    const events = new StoreEvents('redis')
    const seen: ErrorEvent[] = []
    events.subscribe((e) => e.type === 'error' && seen.push(e))
    const reports = new CircuitOpenReports(events)
    for (let i = 0; i < 600; i++) reports.failFast('get', `k:${i}`)
    for (let i = 0; i < 400; i++) reports.failFast('set', `k:${i}`)
    expect(seen).toHaveLength(1)
    expect(seen[0]).toMatchObject({ operation: 'get', tier: 'redis', key: 'k:0' })
    expect(seen[0]!.count).toBeUndefined()
    expect(CacheError.is(seen[0]!.error, 'E_CIRCUIT_OPEN')).toBe(true)
    expect(events.errorCount).toBe(1000)

    reports.stateChanged('half-open')
    expect(seen.slice(1)).toEqual([
      { type: 'error', operation: 'get', tier: 'redis', error: seen[0]!.error, count: 599 },
      { type: 'error', operation: 'set', tier: 'redis', error: seen[0]!.error, count: 400 },
    ])
    // Still the same outage (half-open, then open again): no new event in full.
    reports.stateChanged('open')
    reports.failFast('get', 'k:x')
    reports.stateChanged('closed')
    expect(seen.at(-1)).toMatchObject({ operation: 'get', count: 1 })
    expect(seen.reduce((sum, e) => sum + (e.count ?? 1), 0)).toBe(events.errorCount)
    // The next outage starts in full again.
    reports.failFast('delete', 'k:y')
    expect(seen.at(-1)).toMatchObject({ operation: 'delete', key: 'k:y' })
    expect(seen.at(-1)!.count).toBeUndefined()
  })

  it('only counts while nobody listens', () => {
    const events = new StoreEvents('redis')
    const reports = new CircuitOpenReports(events)
    for (let i = 0; i < 10; i++) reports.failFast('get', 'k')
    reports.stateChanged('closed')
    expect(events.errorCount).toBe(10)
  })
})

describe.skipIf(Boolean(process.env.REDIS_URL))(
  'an open breaker under load (SIGSTOP; skipped when REDIS_URL names a server we must not signal)',
  () => {
    let server: RedisServer
    beforeAll(async () => {
      server = await startRedisServer({ ownServer: true })
    })
    afterAll(async () => {
      await server?.stop()
    })

    it('emits a handful of error events, not one per call, and every failure is still counted', async () => {
      const store = new RedisStore({ url: server.url, prefix: uniquePrefix('reports') })
      const cache = new Cache({ store, defaultTtl: '1m' })
      const errors: { code: string; count: number }[] = []
      cache.on('error', (e) => errors.push({ code: (e.error as CacheError).code, count: e.count ?? 1 }))
      try {
        await cache.set('k', 1)
        server.pause()
        let calls = 0
        try {
          const until = Date.now() + 1500
          await Promise.all(
            Array.from({ length: 10 }, async (_, worker) => {
              while (Date.now() < until) {
                await cache.get(`k:${worker}`)
                calls++
                await new Promise((resolve) => setTimeout(resolve, 1))
              }
            }),
          )
          expect(store.isAvailable()).toBe(false)
        } finally {
          server.resume()
        }
        await vi.waitFor(() => expect(store.isAvailable()).toBe(true), { timeout: 5000, interval: 50 })
        const refused = errors.filter((e) => e.code === 'E_CIRCUIT_OPEN')
        const refusedCalls = refused.reduce((sum, e) => sum + e.count, 0)
        console.log(
          `[redis] ${calls} gets during a 1.5 s hang: ${refusedCalls} refused by the open breaker, reported in ${refused.length} error events`,
        )
        expect(refusedCalls).toBeGreaterThan(100)
        // At most one event in full, then one per operation per state change (open ⇄ half-open every probe).
        expect(refused.length).toBeLessThan(refusedCalls / 10)
        // Every failure counted: the Cache's errors, the events' counts and the store's own counter agree.
        const total = errors.reduce((sum, e) => sum + e.count, 0)
        expect((await cache.stats()).errors).toBe(total)
        expect((await store.stats())[0]!.errors).toBe(total)
      } finally {
        await cache.close()
      }
    }, 30_000)
  },
)
