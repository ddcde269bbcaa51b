import type { Cache } from '@strata-cache/core'
import { prometheusMetrics } from '@strata-cache/metrics'
import { type CacheClusterOptions, type CreateCacheOptions, createCache } from '@strata-cache/tiered'
import { collectDefaultMetrics, Registry } from 'prom-client'

/** The cache options an app chooses: TTL, grace, soft timeout, lock wait. */
export type AppCacheOptions = Omit<CreateCacheOptions, 'redisUrl' | 'cluster' | 'sentinel' | 'prefix' | 'l1'>

export interface AppCache {
  cache: Cache
  /** The registry the metrics endpoint serves: cache metrics and the process's default metrics. */
  registry: Registry
  /** Detaches the metrics and closes the cache (and its Redis connections). */
  close(): Promise<void>
}

/**
 * The one place an app's cache is decided: memory only without a Redis URL or cluster, L1 + Redis
 * L2 + invalidation bus with one (on a Redis Cluster with `cluster`). Keys live under `strata:<name>:` in Redis; metrics carry `<name>`.
 */
export function createAppCache(
  name: string,
  redisUrl: string | undefined,
  options: AppCacheOptions,
  cluster?: CacheClusterOptions,
): AppCache {
  const cache = createCache({
    ...options,
    ...(cluster !== undefined ? { cluster } : redisUrl === undefined ? {} : { redisUrl }),
    prefix: `strata:${name}:`,
    l1: { maxEntries: 5_000, maxBytes: 64 * 1024 * 1024 },
  })
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const detach = prometheusMetrics(cache, { registry, cacheName: name })
  return {
    cache,
    registry,
    async close() {
      detach()
      await cache.close()
    },
  }
}
