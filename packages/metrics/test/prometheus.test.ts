import { Cache, CacheError, CacheErrorCode, createEntry } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { Counter, Registry } from 'prom-client'
import { beforeEach, describe, expect, it } from 'vitest'
import { prometheusMetrics } from '../src/prometheus.ts'
import { scrape, series } from './helpers/scrape.ts'
import { TwoTierStore } from './helpers/two-tier-store.ts'

const READ = ['cache', 'tier', 'key_pattern']

let clock: { t: number }
const now = () => clock.t

beforeEach(() => {
  clock = { t: 1_700_000_000_000 }
})

function memoryCache(): Cache {
  return new Cache({ store: new MemoryStore({ now }), now, defaultTtl: '10s', grace: '1m' })
}

describe('prometheusMetrics', () => {
  it('counts a known sequence of hits, misses, stale serves, errors and invalidations by pattern', async () => {
    const cache = memoryCache()
    const registry = new Registry()
    prometheusMetrics(cache, { registry })

    await cache.set('thermal:rack:1:a1b2c3', { celsius: 20 })
    for (let i = 0; i < 3; i++) expect(await cache.get('thermal:rack:1:a1b2c3')).toEqual({ celsius: 20 })
    expect(await cache.get('thermal:rack:2:ffff')).toBeUndefined()
    expect(await cache.getOrSet('device:info:42:abcd', () => ({ name: 'probe' }))).toEqual({ name: 'probe' })
    expect(await cache.get('device:info:42:abcd')).toEqual({ name: 'probe' })

    // Figures the store owns, read at scrape time.
    const mid = await scrape(registry)
    expect(series(mid, 'cache_keys_total', ['cache', 'tier'])).toEqual({ 'cache=default,tier=memory': 2 })
    expect(series(mid, 'cache_size_bytes', ['cache', 'tier'])['cache=default,tier=memory']).toBeGreaterThan(0)
    expect(series(mid, 'cache_tier_available', ['cache', 'tier'])).toEqual({ 'cache=default,tier=memory': 1 })

    await cache.set('thermal:rack:7:0a0b', { celsius: 30 })
    clock.t += 20_000 // past the 10 s TTL, within the 1 min grace
    const served = await cache.getOrSet('thermal:rack:7:0a0b', () => {
      throw new TypeError('database down')
    })
    expect(served).toEqual({ celsius: 30 })
    expect(await cache.get('thermal:rack:7:0a0b', { allowStale: true })).toEqual({ celsius: 30 })
    expect(await cache.get('thermal:rack:1:a1b2c3')).toBeUndefined() // expired: a miss for get()
    expect(await cache.getOrSet('session', () => 10n)).toBe(10n) // the write fails: BigInt under JSON

    await cache.delete('device:info:42:abcd')
    await cache.invalidate('thermal:rack:*')
    await cache.invalidateTags(['rack'])
    await cache.clear()

    const samples = await scrape(registry)
    expect(series(samples, 'cache_hits_total', READ)).toEqual({
      'cache=default,tier=memory,key_pattern=thermal:rack:*': 5,
      'cache=default,tier=memory,key_pattern=device:info:*': 1,
    })
    expect(series(samples, 'cache_misses_total', READ)).toEqual({
      'cache=default,tier=memory,key_pattern=thermal:rack:*': 2,
      'cache=default,tier=memory,key_pattern=device:info:*': 1,
      'cache=default,tier=memory,key_pattern=session': 1,
    })
    expect(series(samples, 'cache_stale_served_total', READ)).toEqual({
      'cache=default,tier=memory,key_pattern=thermal:rack:*': 2,
    })
    expect(series(samples, 'cache_errors_total', ['operation', 'error_type'])).toEqual({
      'operation=loader,error_type=TypeError': 1,
      'operation=set,error_type=E_SERIALIZATION': 1,
    })
    expect(series(samples, 'cache_invalidations_total', ['kind', 'source'])).toEqual({
      'kind=key,source=local': 1,
      'kind=pattern,source=local': 1,
      'kind=tags,source=local': 1,
      'kind=clear,source=local': 1,
    })
    expect(series(samples, 'cache_loader_duration_seconds_count', ['key_pattern', 'result'])).toEqual({
      'key_pattern=device:info:*,result=success': 1,
      'key_pattern=thermal:rack:*,result=failure': 1,
      'key_pattern=session,result=success': 1,
    })
    expect(series(samples, 'cache_keys_total', ['tier'])).toEqual({ 'tier=memory': 0 })

    // The scrape agrees with the cache's own counters (whose `invalidations` leaves delete() out;
    // the metric counts it as kind="key", as the invalidate event reports it).
    const stats = await cache.stats()
    expect([stats.hits, stats.misses, stats.staleHits, stats.errors, stats.invalidations]).toEqual([
      6, 4, 2, 2, 3,
    ])

    // No label value carries an id or a hash: only patterns, tier and operation names.
    for (const s of samples) {
      for (const [label, value] of Object.entries(s.labels)) {
        if (label === 'le') continue
        expect(value, `${s.name} ${label}`).not.toMatch(/\d|a1b2c3|ffff|abcd|0a0b/)
      }
    }
  })

  it('labels hits by the tier that answered and times reads per tier', async () => {
    const store = new TwoTierStore(now)
    const cache = new Cache({ store, now, defaultTtl: '10s' })
    const registry = new Registry()
    prometheusMetrics(cache, { registry, cacheName: 'thermal' })

    await cache.set('thermal:rack:1:aa', 1)
    await store.l2.set('thermal:rack:3:beef', createEntry(3, 10_000, 0, now()))
    expect(await cache.get('thermal:rack:1:aa')).toBe(1) // L1
    expect(await cache.get('thermal:rack:3:beef')).toBe(3) // L2, fills L1
    expect(await cache.get('thermal:rack:3:beef')).toBe(3) // L1
    expect(await cache.get('thermal:rack:4:cc')).toBeUndefined()

    let samples = await scrape(registry)
    expect(series(samples, 'cache_hits_total', ['tier', 'key_pattern'])).toEqual({
      'tier=l1,key_pattern=thermal:rack:*': 2,
      'tier=l2,key_pattern=thermal:rack:*': 1,
    })
    expect(series(samples, 'cache_misses_total', ['tier', 'key_pattern'])).toEqual({
      'tier=tiered,key_pattern=thermal:rack:*': 1,
    })
    expect(series(samples, 'cache_operation_duration_seconds_count', ['operation', 'tier'])).toEqual({
      'operation=set,tier=tiered': 1,
      'operation=get,tier=l1': 2,
      'operation=get,tier=l2': 1,
      'operation=get,tier=tiered': 1,
    })
    expect(series(samples, 'cache_keys_total', ['tier'])).toEqual({ 'tier=l1': 2, 'tier=l2': 2 })
    expect(series(samples, 'cache_circuit_breaker_state', ['tier'])).toEqual({ 'tier=l2': 0 })

    // An L2 outage: a miss and a counted error for the caller, the breaker opens.
    store.l2Down = true
    expect(await cache.get('thermal:rack:5:dd')).toBeUndefined()
    store.setBreaker('open')
    store.bus.received = 7
    store.bus.dropped = 2
    store.bus.rejected = 3
    store.bus.gaps = 1
    store.emit({ type: 'bus', state: 'disconnected', reason: 'test' })
    store.emit({ type: 'invalidate', kind: 'pattern', source: 'bus', pattern: 'thermal:*' })

    samples = await scrape(registry)
    expect(series(samples, 'cache_errors_total', ['operation', 'error_type'])).toEqual({
      'operation=get,error_type=E_STORE_UNAVAILABLE': 1,
    })
    expect(series(samples, 'cache_circuit_breaker_state', ['tier'])).toEqual({ 'tier=l2': 2 })
    expect(series(samples, 'cache_tier_available', ['tier'])).toEqual({
      'tier=l1': 1,
      'tier=l2': 0,
      'tier=bus': 1,
    })
    expect(series(samples, 'cache_bus_connected', ['cache'])).toEqual({ 'cache=thermal': 0 })
    expect(series(samples, 'cache_bus_messages_sent_total', ['cache'])).toEqual({ 'cache=thermal': 1 })
    expect(series(samples, 'cache_bus_messages_received_total', ['cache'])).toEqual({ 'cache=thermal': 7 })
    expect(series(samples, 'cache_bus_messages_dropped_total', ['cache'])).toEqual({ 'cache=thermal': 2 })
    expect(series(samples, 'cache_bus_messages_rejected_total', ['cache'])).toEqual({ 'cache=thermal': 3 })
    expect(series(samples, 'cache_bus_gaps_total', ['cache'])).toEqual({ 'cache=thermal': 1 })
    expect(series(samples, 'cache_l2_repairs_pending', ['tier'])).toEqual({ 'tier=l2': 0 })
    expect(series(samples, 'cache_invalidations_total', ['kind', 'source'])).toEqual({
      'kind=pattern,source=bus': 1,
    })

    // Removals L2 missed wait in the tiered store's repairs; after recovery they are replayed.
    Object.assign(store.repairs, { pending: 3, queued: 4, replayed: 1, collapsed: 0 })
    samples = await scrape(registry)
    expect(series(samples, 'cache_l2_repairs_pending', ['tier'])).toEqual({ 'tier=l2': 3 })
    expect(series(samples, 'cache_l2_repairs_total', ['tier', 'outcome'])).toEqual({
      'tier=l2,outcome=queued': 4,
      'tier=l2,outcome=replayed': 1,
      'tier=l2,outcome=collapsed': 0,
    })

    store.l2Down = false
    store.setBreaker('closed')
    store.emit({ type: 'bus', state: 'connected' })
    samples = await scrape(registry)
    expect(series(samples, 'cache_circuit_breaker_state', ['tier'])).toEqual({ 'tier=l2': 0 })
    expect(series(samples, 'cache_bus_connected', ['cache'])).toEqual({ 'cache=thermal': 1 })
  })

  it('keeps exact counts and per-tier timings under many concurrent, interleaved callers', async () => {
    const store = new TwoTierStore(now)
    const cache = new Cache({ store, now, defaultTtl: '10s' })
    const registry = new Registry()
    prometheusMetrics(cache, { registry })
    const patterns = ['thermal:rack', 'device:info', 'analytics:events']
    // Half the keys start in L2 only, so reads come from L1, L2 and loaders, interleaved.
    for (let i = 0; i < 30; i += 2) {
      await store.l2.set(`${patterns[i % 3]}:${i}:ab`, createEntry(i, 10_000, 0, now()))
    }
    let loads = 0
    let getMisses = 0
    const call = (n: number) => {
      const i = (n * 7) % 30
      const key = `${patterns[i % 3]}:${i}:ab`
      return n % 3 === 0
        ? cache.get(key).then((v) => {
            if (v === undefined) getMisses++
          })
        : cache.getOrSet(key, async () => {
            loads++
            await new Promise((resolve) => setImmediate(resolve))
            return i
          })
    }
    // Six waves of 100 concurrent calls: later waves find what earlier ones filled into L1.
    for (let wave = 0; wave < 6; wave++) {
      await Promise.all(Array.from({ length: 100 }, (_, n) => call(wave * 100 + n)))
    }

    const stats = await cache.stats()
    const samples = await scrape(registry)
    const sum = (name: string) => samples.filter((s) => s.name === name).reduce((t, s) => t + s.value, 0)
    expect(sum('cache_hits_total')).toBe(stats.hits)
    expect(sum('cache_misses_total')).toBe(stats.misses)
    expect(stats.hits + stats.misses).toBeGreaterThanOrEqual(600)
    const byTier = series(samples, 'cache_hits_total', ['tier'])
    expect(byTier).toEqual({ 'tier=l1': stats.hitsByTier.l1, 'tier=l2': stats.hitsByTier.l2 })
    expect(sum('cache_loader_duration_seconds_count')).toBe(loads)
    // Every get reached the store (no peek on this store) and was timed under the tier that answered.
    const timedGets = series(samples, 'cache_operation_duration_seconds_count', ['operation', 'tier'])
    expect(
      Object.keys(timedGets)
        .filter((k) => k.startsWith('operation=get,'))
        .sort(),
    ).toEqual(['operation=get,tier=l1', 'operation=get,tier=l2', 'operation=get,tier=tiered'])
    expect(
      Object.entries(timedGets)
        .filter(([k]) => k.startsWith('operation=get,'))
        .reduce((t, [, v]) => t + v, 0),
    ).toBe(200)
    expect(getMisses).toBeGreaterThan(0)
    expect(timedGets['operation=get,tier=tiered']).toBe(getMisses)
  })

  it('shares one set of metrics between two caches on one registry, told apart by the cache label', async () => {
    const registry = new Registry()
    const a = memoryCache()
    const b = memoryCache()
    prometheusMetrics(a, { registry, cacheName: 'thermal' })
    prometheusMetrics(b, { registry, cacheName: 'analytics' })

    await a.set('thermal:rack:1:aa', 1)
    await a.get('thermal:rack:1:aa')
    await b.set('analytics:events:1:bb', 1)
    await b.get('analytics:events:1:bb')
    await b.get('analytics:events:1:bb')
    await b.get('analytics:events:2:cc')

    const samples = await scrape(registry)
    expect(series(samples, 'cache_hits_total', READ)).toEqual({
      'cache=thermal,tier=memory,key_pattern=thermal:rack:*': 1,
      'cache=analytics,tier=memory,key_pattern=analytics:events:*': 2,
    })
    expect(series(samples, 'cache_misses_total', READ)).toEqual({
      'cache=analytics,tier=memory,key_pattern=analytics:events:*': 1,
    })
    expect(series(samples, 'cache_keys_total', ['cache', 'tier'])).toEqual({
      'cache=thermal,tier=memory': 1,
      'cache=analytics,tier=memory': 1,
    })
    // Each metric is exposed once (one HELP line), not once per cache.
    const text = await registry.metrics()
    expect(text.match(/^# HELP cache_hits_total /gm)).toHaveLength(1)
  })

  it('refuses a second cache under the same name, or the same cache twice, with a clear error', () => {
    const registry = new Registry()
    const a = memoryCache()
    prometheusMetrics(a, { registry })
    const sameName = () => prometheusMetrics(memoryCache(), { registry })
    expect(sameName).toThrow(/a cache named "default" is already attached to this registry/)
    expect(() => sameName()).toThrow(
      expect.objectContaining({ code: CacheErrorCode.INVALID_OPTION, option: 'cacheName' }),
    )
    expect(() => prometheusMetrics(a, { registry, cacheName: 'again' })).toThrow(
      /already attached to this registry as "default"/,
    )
  })

  it('refuses a registry that already holds a metric of the same name, and leaves it as it was', async () => {
    const registry = new Registry()
    new Counter({ name: 'cache_errors_total', help: 'the application own', registers: [registry] })
    let error: unknown
    try {
      prometheusMetrics(memoryCache(), { registry })
    } catch (e) {
      error = e
    }
    expect(CacheError.is(error, CacheErrorCode.INVALID_OPTION)).toBe(true)
    expect((error as Error).message).toMatch(/already has a metric named "cache_errors_total".*"prefix"/)
    expect(registry.getMetricsAsArray()).toHaveLength(1)

    // With a prefix both live side by side.
    const cache = memoryCache()
    prometheusMetrics(cache, { registry, prefix: 'strata_' })
    await cache.get('x:y:1')
    expect(series(await scrape(registry), 'strata_cache_misses_total', ['key_pattern'])).toEqual({
      'key_pattern=x:y:*': 1,
    })
  })

  it('names the bad option', () => {
    const cache = memoryCache()
    const registry = new Registry()
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ registry, colour: 'red' }, /unknown option "colour"/],
      [{ registry: {} }, /"registry" must be a prom-client Registry/],
      [{ registry, prefix: '1x' }, /"prefix" must be a metric name prefix/],
      [{ registry, cacheName: '' }, /"cacheName" must be a non-empty string/],
      [{ registry, keyPattern: 'thermal:*' }, /"keyPattern" must be a function/],
      [
        { registry, buckets: [0.1, 0.01] },
        /"buckets" must be a non-empty array of increasing positive numbers/,
      ],
      [{ registry, maxPatterns: 0 }, /"maxPatterns" must be a positive integer/],
    ]
    for (const [options, message] of cases) {
      expect(() => prometheusMetrics(cache, options as never)).toThrow(message)
    }
    expect(() => prometheusMetrics({} as never, { registry })).toThrow(/first argument must be a Cache/)
    expect(registry.getMetricsAsArray()).toHaveLength(0)
  })

  it('stops every update on detach, and unregisters when the last cache detaches', async () => {
    const registry = new Registry()
    const a = memoryCache()
    const b = memoryCache()
    const detachA = prometheusMetrics(a, { registry, cacheName: 'a' })
    const detachB = prometheusMetrics(b, { registry, cacheName: 'b' })
    await a.set('user:profile:1:aa', 1)
    await b.set('user:profile:1:aa', 1)
    await a.get('user:profile:1:aa')
    await b.get('user:profile:1:aa')
    await a.get('user:profile:2:bb') // a timed slow-path read

    detachA()
    detachA() // idempotent
    await a.get('user:profile:1:aa')
    await a
      .getOrSet('user:profile:3:cc', () => {
        throw new Error('not counted')
      })
      .catch(() => {})
    await a.invalidate('user:*')
    await b.get('user:profile:1:aa')

    let samples = await scrape(registry)
    expect(series(samples, 'cache_hits_total', READ)).toEqual({
      'cache=b,tier=memory,key_pattern=user:profile:*': 2,
    })
    expect(samples.filter((s) => s.labels.cache === 'a')).toEqual([])
    expect(registry.getSingleMetric('cache_hits_total')).toBeDefined()

    detachB()
    await b.get('user:profile:1:aa')
    expect(registry.getMetricsAsArray()).toHaveLength(0)
    expect(await registry.metrics()).not.toMatch(/cache_/)

    // Attaching again starts from a clean slate.
    prometheusMetrics(a, { registry, cacheName: 'a' })
    await a.set('user:profile:1:aa', 1) // invalidated above, while detached
    await a.get('user:profile:1:aa')
    samples = await scrape(registry)
    expect(series(samples, 'cache_hits_total', READ)).toEqual({
      'cache=a,tier=memory,key_pattern=user:profile:*': 1,
    })
  })

  it('uses a custom key pattern function and bounds the number of patterns', async () => {
    const cache = memoryCache()
    const registry = new Registry()
    prometheusMetrics(cache, {
      registry,
      maxPatterns: 2,
      keyPattern: (key) => {
        if (key.startsWith('bad')) throw new Error('cannot classify')
        return key.split(':')[0]!
      },
    })
    for (const key of ['alpha:1', 'beta:2', 'gamma:3', 'delta:4', 'bad:5', 'alpha:6']) await cache.get(key)
    expect(series(await scrape(registry), 'cache_misses_total', ['key_pattern'])).toEqual({
      'key_pattern=alpha': 2,
      'key_pattern=beta': 1,
      'key_pattern=other': 3,
    })
  })

  it('uses the buckets given, in seconds', async () => {
    const cache = memoryCache()
    const registry = new Registry()
    prometheusMetrics(cache, { registry, buckets: [0.001, 0.5] })
    await cache.get('a:b:1')
    const les = (await scrape(registry))
      .filter((s) => s.name === 'cache_operation_duration_seconds_bucket')
      .map((s) => s.labels.le)
    expect(les).toEqual(['0.001', '0.5', '+Inf'])
    expect(() => prometheusMetrics(memoryCache(), { registry, cacheName: 'two', buckets: [0.001] })).toThrow(
      /"buckets" differs from the buckets already registered/,
    )
  })
})
