import KeyvRedis, { createKeyvNonBlocking } from '@keyv/redis'
import { RedisMessageProvider } from '@qified/redis'
import { Cacheable, createKeyv } from 'cacheable'
import { type CompareCache, type Contender, L1_MAX_ENTRIES, TTL_MS } from './contender.ts'

/**
 * cacheable as its README's "Non-Blocking with @keyv/redis" section recommends to avoid hangs:
 * `createKeyvNonBlocking(url)` as secondary and `nonBlocking: true` (run in the L2 and outage scenarios only).
 */
export const cacheableNonBlockingContender: Contender = {
  id: 'cacheable-nb',
  label: 'cacheable (nonBlocking)',
  packages: ['cacheable', 'keyv', '@keyv/redis', '@qified/redis'],
  setup: `new Cacheable({ primary: createKeyv({ lruSize: ${L1_MAX_ENTRIES} }), secondary: createKeyvNonBlocking(url), nonBlocking: true, sync: { qified: new RedisMessageProvider({ uri }) } })`,
  async create(redisUrl) {
    const provider = new RedisMessageProvider({ uri: redisUrl })
    const cacheable = new Cacheable({
      primary: createKeyv({ lruSize: L1_MAX_ENTRIES }),
      secondary: createKeyvNonBlocking(redisUrl),
      nonBlocking: true,
      ttl: TTL_MS,
      sync: { qified: provider },
    })
    return wrapCacheable(cacheable, provider)
  },
}

function wrapCacheable(cacheable: Cacheable, provider: RedisMessageProvider): CompareCache {
  return {
    get: (key) => cacheable.get(key),
    set: async (key, value) => {
      await cacheable.set(key, value, TTL_MS)
    },
    getOrSet: (key, loader) => cacheable.getOrSet(key, loader, { ttl: TTL_MS }),
    delete: async (key) => {
      await cacheable.delete(key)
    },
    close: async () => {
      await cacheable.disconnect()
      await provider.disconnect(true).catch(() => {})
    },
  }
}

/**
 * cacheable's documented layer 1 / layer 2 setup: CacheableMemory primary, Keyv Redis secondary,
 * and CacheableSync over Redis pub/sub so a set or delete on one instance reaches the others' primary.
 */
export const cacheableContender: Contender = {
  id: 'cacheable',
  label: 'cacheable',
  packages: ['cacheable', 'keyv', '@keyv/redis', '@qified/redis'],
  setup: `new Cacheable({ primary: createKeyv({ lruSize: ${L1_MAX_ENTRIES} }), secondary: new KeyvRedis(url), sync: { qified: new RedisMessageProvider({ uri }) } }), nonBlocking at its default (false)`,
  async create(redisUrl) {
    const provider = new RedisMessageProvider({ uri: redisUrl })
    const cacheable = new Cacheable({
      primary: createKeyv({ lruSize: L1_MAX_ENTRIES }),
      secondary: new KeyvRedis(redisUrl),
      ttl: TTL_MS,
      sync: { qified: provider },
    })
    return wrapCacheable(cacheable, provider)
  },
}
