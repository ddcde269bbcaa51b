import { createKeyv as createKeyvRedis } from '@keyv/redis'
import { createCache } from 'cache-manager'
import { createKeyv } from 'cacheable'
import { type CompareCache, type Contender, L1_MAX_ENTRIES, TTL_MS } from './contender.ts'

/** cache-manager's documented multi-store setup: an in-memory Keyv first, a Keyv Redis second. It has no bus. */
export const cacheManagerContender: Contender = {
  id: 'cache-manager',
  label: 'cache-manager',
  packages: ['cache-manager', 'keyv', '@keyv/redis'],
  setup: `createCache({ stores: [createKeyv({ lruSize: ${L1_MAX_ENTRIES} }) /* cacheable */, createKeyv(url) /* @keyv/redis */] }); no invalidation bus exists`,
  async create(redisUrl) {
    const manager = createCache({
      stores: [createKeyv({ lruSize: L1_MAX_ENTRIES }), createKeyvRedis(redisUrl)],
      ttl: TTL_MS,
    })
    const cache: CompareCache = {
      get: (key) => manager.get(key),
      set: async (key, value) => {
        await manager.set(key, value, TTL_MS)
      },
      getOrSet: (key, loader) => manager.wrap(key, loader, TTL_MS),
      delete: async (key) => {
        await manager.del(key)
      },
      close: async () => {
        await manager.disconnect()
      },
    }
    return cache
  },
}
