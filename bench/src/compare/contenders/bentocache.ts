import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
import { type CompareCache, type Contender, L1_MAX_ENTRIES, TTL_MS } from './contender.ts'

/** BentoCache's documented two-level setup: memory L1, Redis L2, Redis bus to sync the L1s. */
export const bentocacheContender: Contender = {
  id: 'bentocache',
  label: 'BentoCache',
  packages: ['bentocache'],
  setup: `bentostore().useL1Layer(memoryDriver({ maxItems: ${L1_MAX_ENTRIES}, maxSize: '64mb' })).useL2Layer(redisDriver).useBus(redisBusDriver), other options at their defaults`,
  async create(redisUrl) {
    const { hostname, port } = new URL(redisUrl)
    const connection = { host: hostname, port: Number(port) }
    const bento = new BentoCache({
      default: 'cache',
      ttl: TTL_MS,
      stores: {
        cache: bentostore()
          .useL1Layer(memoryDriver({ maxItems: L1_MAX_ENTRIES, maxSize: '64mb' }))
          .useL2Layer(redisDriver({ connection }))
          .useBus(redisBusDriver({ connection })),
      },
    })
    const cache: CompareCache = {
      get: (key) => bento.get({ key }),
      set: async (key, value) => {
        await bento.set({ key, value, ttl: TTL_MS })
      },
      getOrSet: (key, loader) => bento.getOrSet({ key, factory: loader, ttl: TTL_MS }),
      delete: async (key) => {
        await bento.delete({ key })
      },
      close: () => bento.disconnectAll(),
    }
    return cache
  },
}
