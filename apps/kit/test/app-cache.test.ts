import { afterEach, describe, expect, it } from 'vitest'
import {
  type AppCache,
  CacheStatus,
  CacheStatusTracker,
  cacheStatsBody,
  clearCache,
  createAppCache,
  HttpError,
  invalidatePattern,
} from '../src/index.ts'

let appCache: AppCache | undefined

afterEach(async () => {
  await appCache?.close()
  appCache = undefined
})

describe('createAppCache without Redis', () => {
  it('counts hits and misses in the stats body, with the L1 bytes as memory and no clients', async () => {
    appCache = createAppCache('kit', undefined, { defaultTtl: '1m' })
    const { cache } = appCache
    await cache.getOrSet('a:1', async () => ({ n: 1 }))
    await cache.getOrSet('a:1', async () => ({ n: 2 }))
    const body = await cacheStatsBody(cache)
    expect(body.cache).toMatchObject({
      enabled: true,
      available: true,
      keyspace_hits: 1,
      keyspace_misses: 1,
      hit_rate: 50,
      connected_clients: 0,
    })
    expect(body.cache.used_memory_bytes).toBeGreaterThan(0)
    expect(body.cache.used_memory).toMatch(/^(\d+B|\d+\.\d\d[KMGT])$/)
    expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false)
  })

  it('serves the cache metrics under the app name, alongside the default process metrics', async () => {
    appCache = createAppCache('kit', undefined, {})
    await appCache.cache.getOrSet('a:1', async () => 1)
    const text = await appCache.registry.metrics()
    expect(text).toContain('cache="kit"')
    expect(text).toContain('process_cpu_user_seconds_total')
  })
})

describe('CacheStatusTracker', () => {
  it('tells a miss from a hit per read', async () => {
    appCache = createAppCache('kit', undefined, { defaultTtl: '1m' })
    const { cache } = appCache
    const tracker = new CacheStatusTracker(cache)
    const first = await tracker.observe('b:1', () => cache.getOrSet('b:1', async () => 'v'))
    const second = await tracker.observe('b:1', () => cache.getOrSet('b:1', async () => 'w'))
    tracker.close()
    expect(first).toEqual({ value: 'v', status: CacheStatus.MISS })
    expect(second).toEqual({ value: 'v', status: CacheStatus.HIT })
  })
})

describe('cache admin', () => {
  it('invalidates by pattern and refuses a pattern outside the key alphabet before touching anything', async () => {
    appCache = createAppCache('kit', undefined, {})
    const { cache } = appCache
    await cache.set('rack:1:a', 1)
    await cache.set('rack:1:b', 2)
    await cache.set('rack:2:a', 3)
    const refused = await invalidatePattern(cache, 'rack 1*').catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(HttpError)
    expect(refused).toMatchObject({ statusCode: 400, code: 'E_INVALID_PATTERN' })
    expect(await invalidatePattern(cache, 'rack:1:*')).toEqual({ pattern: 'rack:1:*', deleted_count: 2 })
    expect(await cache.get('rack:2:a')).toBe(3)
    expect(await clearCache(cache)).toMatchObject({ cleared: true })
    expect(await cache.get('rack:2:a')).toBeUndefined()
  })
})
