import type { Cache } from '@strata-cache/core'
import { prometheusMetrics } from '@strata-cache/metrics'
import { createCache } from '@strata-cache/tiered'
import { collectDefaultMetrics, Registry } from 'prom-client'
import type { Config } from './config.ts'

export interface AppCache {
  cache: Cache
  /** The registry `/metrics` serves: cache metrics and the process's default metrics. */
  registry: Registry
  /** Detaches the metrics and closes the cache (and its Redis connections). */
  close(): Promise<void>
}

/**
 * The one place the service decides its cache: memory only without REDIS_URL, L1 + Redis L2 +
 * invalidation bus with it. Grace and a soft timeout let an expired analysis be served stale while
 * a fresh one is computed.
 */
export function createAppCache(config: Config): AppCache {
  const cache = createCache({
    ...(config.redisUrl === undefined ? {} : { redisUrl: config.redisUrl }),
    prefix: 'strata:thermal:',
    defaultTtl: config.thermalTtlMs,
    grace: config.graceMs,
    softTimeout: config.softTimeoutMs,
    // A pod waiting for another pod's optimization (seconds) waits this long before computing itself.
    lockWait: '30s',
    l1: { maxEntries: 5_000, maxBytes: 64 * 1024 * 1024 },
  })
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const detach = prometheusMetrics(cache, { registry, cacheName: 'thermal' })
  return {
    cache,
    registry,
    async close() {
      detach()
      await cache.close()
    },
  }
}
