import { createCache } from '@strata-cache/tiered'
import { type CompareCache, type Contender, L1_MAX_ENTRIES, TTL_MS } from './contender.ts'

function strata(id: string, label: string, lock: boolean): Contender {
  return {
    id,
    label,
    packages: ['@strata-cache/core', '@strata-cache/memory', '@strata-cache/redis', '@strata-cache/tiered'],
    setup: `createCache({ redisUrl, l1: { maxEntries: ${L1_MAX_ENTRIES} }, defaultTtl: '10m'${lock ? ', lock: true' : ''} }): MemoryStore L1 + RedisStore L2 + RedisBus, everything else at its defaults`,
    async create(redisUrl) {
      const cache = createCache({ redisUrl, l1: { maxEntries: L1_MAX_ENTRIES }, defaultTtl: TTL_MS, lock })
      // What Strata absorbed instead of throwing (L2 timeouts, open breaker): shown next to the figures.
      const counts: Record<string, number> = {}
      const bump = (name: string) => {
        counts[name] = (counts[name] ?? 0) + 1
      }
      cache.on('error', (e) => bump(`${e.operation} ${(e.error as { code?: string })?.code ?? 'error'}`))
      cache.on('breaker', (e) => bump(`breaker ${e.state}`))
      const adapter: CompareCache = {
        diagnostics: () => counts,
        get: (key) => cache.get(key),
        set: (key, value) => cache.set(key, value),
        getOrSet: (key, loader) => cache.getOrSet(key, loader),
        delete: async (key) => {
          await cache.delete(key)
        },
        close: () => cache.close(),
      }
      return adapter
    },
  }
}

/** Strata as `createCache({ redisUrl })` sets it up: L1 + L2 + bus. */
export const strataContender = strata('strata', 'Strata', false)

/** The same with `lock: true`: one loader per key across processes (run in the stampede scenario only). */
export const strataLockContender = strata('strata-lock', 'Strata (lock: true)', true)
