import type { Cache, CacheStats, HealthReport } from '@strata-cache/core'
import { afterEach, describe, expect, it } from 'vitest'
import { type AppCache, CacheFigures, createAppCache } from '../src/index.ts'

let appCache: AppCache | undefined

afterEach(async () => {
  await appCache?.close()
  appCache = undefined
})

/** The cache with its health() and stats() counted: what would be PING and INFO on Redis. */
function counted(cache: Cache) {
  const calls = { health: 0, stats: 0 }
  const health = cache.health.bind(cache)
  const stats = cache.stats.bind(cache)
  cache.health = (): Promise<HealthReport> => {
    calls.health++
    return health()
  }
  cache.stats = (): Promise<CacheStats> => {
    calls.stats++
    return stats()
  }
  return calls
}

describe('CacheFigures', () => {
  it('reads the tiers at most once per second, concurrent callers sharing one read', async () => {
    appCache = createAppCache('figures', undefined, { defaultTtl: '1m' })
    const { cache } = appCache
    const calls = counted(cache)
    let now = 0
    const figures = new CacheFigures(cache, 1000, () => now)
    await Promise.all(Array.from({ length: 20 }, () => figures.stats()))
    await Promise.all(Array.from({ length: 20 }, () => figures.health()))
    expect(calls).toEqual({ stats: 1, health: 1 })
    now = 999
    await figures.stats()
    expect(calls.stats).toBe(1)
    now = 1000
    await figures.stats()
    await figures.health()
    expect(calls).toEqual({ stats: 2, health: 2 })
    figures.close()
  })

  it('keeps the counters current while the tiers are memoized', async () => {
    appCache = createAppCache('figures', undefined, { defaultTtl: '1m' })
    const { cache } = appCache
    const figures = new CacheFigures(cache, 60_000, () => 0)
    const before = await figures.stats()
    await cache.getOrSet('k:1', () => 1)
    await cache.getOrSet('k:1', () => 2)
    await cache
      .getOrSet('k:2', () => {
        throw new Error('loader failed')
      })
      .catch(() => {})
    const after = await figures.stats()
    const truth = await cache.stats()
    expect(before.hits + before.misses).toBe(0)
    expect({ hits: after.hits, misses: after.misses, errors: after.errors, hitRate: after.hitRate }).toEqual({
      hits: truth.hits,
      misses: truth.misses,
      errors: truth.errors,
      hitRate: truth.hitRate,
    })
    expect(after.hits).toBe(1)
    figures.close()
  })

  it('reads again at once after an error, breaker or bus event, and never reuses a failed read', async () => {
    const fake = fakeCache()
    let now = 0
    const figures = new CacheFigures(fake.cache, 1000, () => now)
    await figures.stats()
    await figures.stats()
    expect(fake.calls.stats).toBe(1)
    for (const [name, event] of [
      ['error', { operation: 'get', tier: 'redis', error: new Error('down') }],
      ['breaker', { tier: 'redis', state: 'open', previous: 'closed' }],
      ['bus', { state: 'disconnected' }],
    ] as const) {
      fake.emit(name, event)
      await figures.stats()
    }
    expect(fake.calls.stats).toBe(4)
    expect((await figures.stats()).errors).toBe(1) // the error event was counted
    // An event standing for many refused calls counts them all, as the cache's own stats do.
    fake.emit('error', { operation: 'get', tier: 'redis', error: new Error('open'), count: 41 })
    expect((await figures.stats()).errors).toBe(42)
    now = 5000
    fake.failing = true
    await expect(figures.stats()).rejects.toThrow('INFO failed')
    await expect(figures.stats()).rejects.toThrow('INFO failed')
    expect(fake.calls.stats).toBe(7)
    fake.failing = false
    await figures.stats()
    expect(fake.calls.stats).toBe(8)
    figures.close()
    expect(fake.listenerCount()).toBe(0)
  })
})

/** Just what CacheFigures uses of a Cache: events, stats() and health(). */
function fakeCache() {
  const listeners = new Map<string, Set<(event: unknown) => void>>()
  const fake = {
    calls: { stats: 0, health: 0 },
    failing: false,
    emit(name: string, event: unknown) {
      for (const listener of listeners.get(name) ?? []) listener(event)
    },
    listenerCount: () => [...listeners.values()].reduce((n, set) => n + set.size, 0),
    cache: {
      on(name: string, listener: (event: unknown) => void) {
        const set = listeners.get(name) ?? new Set()
        listeners.set(name, set)
        set.add(listener)
        return () => set.delete(listener)
      },
      async stats() {
        fake.calls.stats++
        if (fake.failing) throw new Error('INFO failed')
        return { hits: 0, staleHits: 0, misses: 0, hitRate: 0, errors: 0, tiers: [] }
      },
      async health() {
        fake.calls.health++
        return { status: 'up', checks: [] }
      },
    } as unknown as Cache,
  }
  return fake
}
