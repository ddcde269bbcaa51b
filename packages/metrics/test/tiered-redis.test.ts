import type { Cache } from '@strata-cache/core'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { createCache } from '@strata-cache/tiered'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { prometheusMetrics } from '../src/prometheus.ts'
import { scrape, series } from './helpers/scrape.ts'

// The figures the stores own, read from real ones: L1 + Redis L2 + bus (createCache) on a
// redis-server these tests start, pause (SIGSTOP) and resume by pid.
describe('prometheusMetrics on createCache (MemoryStore + RedisStore + RedisBus)', () => {
  let server: RedisServer
  let podA: Cache
  let podB: Cache
  const registryA = new Registry()
  const registryB = new Registry()

  beforeAll(async () => {
    server = await startRedisServer({ ownServer: true })
    const prefix = `metrics${process.pid}:`
    const options = {
      redisUrl: server.url,
      prefix,
      defaultTtl: '1m',
      redis: { commandTimeout: '50ms', breaker: { failureThreshold: 3, probeInterval: '100ms' } },
      l1: { admission: 'always' as const }, // B's first read from L2 fills its L1
    }
    podA = createCache(options)
    podB = createCache(options)
    prometheusMetrics(podA, { registry: registryA, cacheName: 'thermal' })
    prometheusMetrics(podB, { registry: registryB, cacheName: 'thermal' })
    // Until its bus is connected a pod keeps nothing in L1 (it could not hear invalidations).
    await vi.waitFor(
      async () => {
        for (const registry of [registryA, registryB]) {
          expect(series(await scrape(registry), 'cache_tier_available', ['tier'])['tier=bus']).toBe(1)
        }
      },
      { timeout: 10_000, interval: 20 },
    )
  })

  afterAll(async () => {
    server?.resume()
    await Promise.allSettled([podA?.close(), podB?.close()])
    await server?.stop()
  })

  it('labels hits by the tier that answered and reads L1, L2 and bus figures at scrape time', async () => {
    // A write tells the other pods to drop their copy, as does a delete: wait for each to arrive.
    const busInvalidationsOfB = (n: number) =>
      vi.waitFor(
        async () => {
          const b = await scrape(registryB)
          expect(series(b, 'cache_invalidations_total', ['kind', 'source'])).toEqual({
            'kind=key,source=bus': n,
          })
        },
        { timeout: 5_000, interval: 20 },
      )
    await podA.set('thermal:rack:1:aa', { celsius: 21 })
    await busInvalidationsOfB(1)
    expect(await podA.get('thermal:rack:1:aa')).toEqual({ celsius: 21 }) // A's L1
    expect(await podB.get('thermal:rack:1:aa')).toEqual({ celsius: 21 }) // B's L2 round trip, fills its L1
    expect(await podB.get('thermal:rack:1:aa')).toEqual({ celsius: 21 }) // B's L1
    expect(await podB.get('thermal:rack:2:bb')).toBeUndefined()
    await podA.delete('thermal:rack:1:aa')
    await busInvalidationsOfB(2)

    const a = await scrape(registryA)
    const b = await scrape(registryB)
    expect(series(a, 'cache_hits_total', ['tier', 'key_pattern'])).toEqual({
      'tier=memory,key_pattern=thermal:rack:*': 1,
    })
    expect(series(b, 'cache_hits_total', ['tier', 'key_pattern'])).toEqual({
      'tier=redis,key_pattern=thermal:rack:*': 1,
      'tier=memory,key_pattern=thermal:rack:*': 1,
    })
    expect(series(b, 'cache_misses_total', ['tier', 'key_pattern'])).toEqual({
      'tier=tiered,key_pattern=thermal:rack:*': 1,
    })
    expect(series(b, 'cache_operation_duration_seconds_count', ['operation', 'tier'])).toMatchObject({
      'operation=get,tier=redis': 1,
      'operation=get,tier=tiered': 1,
    })
    expect(series(a, 'cache_invalidations_total', ['kind', 'source'])).toEqual({ 'kind=key,source=local': 1 })
    expect(series(a, 'cache_bus_messages_sent_total', ['cache'])['cache=thermal']).toBeGreaterThanOrEqual(2)
    expect(series(b, 'cache_bus_messages_received_total', ['cache'])['cache=thermal']).toBeGreaterThanOrEqual(
      1,
    )
    expect(series(b, 'cache_tier_available', ['tier'])).toEqual({
      'tier=memory': 1,
      'tier=redis': 1,
      'tier=bus': 1,
    })
    expect(series(b, 'cache_circuit_breaker_state', ['tier'])).toEqual({ 'tier=redis': 0 })
    expect(series(b, 'cache_keys_total', ['tier'])).toEqual({ 'tier=memory': 0 }) // B's copy was dropped by the bus
    expect(series(b, 'cache_size_bytes', ['tier'])).toEqual({ 'tier=memory': 0 })
  })

  it('shows a hung Redis (SIGSTOP): errors counted, breaker open, tier down; then closed again after SIGCONT', async () => {
    server.pause()
    try {
      let open = false
      for (let i = 0; i < 30 && !open; i++) {
        expect(await podA.get(`thermal:rack:${i}:cold`)).toBeUndefined() // a miss, never a rejection
        open = series(await scrape(registryA), 'cache_circuit_breaker_state', ['tier'])['tier=redis'] === 2
      }
      expect(open).toBe(true)
      const a = await scrape(registryA)
      expect(series(a, 'cache_tier_available', ['tier'])['tier=redis']).toBe(0)
      const errors = series(a, 'cache_errors_total', ['operation', 'error_type'])
      const getErrors = Object.entries(errors).filter(([k]) => k.startsWith('operation=get,'))
      expect(getErrors.reduce((sum, [, v]) => sum + v, 0)).toBeGreaterThanOrEqual(3)
      for (const key of Object.keys(errors))
        expect(key).toMatch(/^operation=[A-Za-z]+,error_type=[A-Za-z_]+$/)
    } finally {
      server.resume()
    }
    await vi.waitFor(
      async () => {
        await podA.get('thermal:rack:1:probe') // traffic for the half-open trial
        expect(series(await scrape(registryA), 'cache_circuit_breaker_state', ['tier'])).toEqual({
          'tier=redis': 0,
        })
      },
      { timeout: 10_000, interval: 100 },
    )
  })
})
