import { Redis } from 'ioredis'
import type { CompareCache, Contender } from './contender.ts'
import { TTL_MS } from './contender.ts'

const PREFIX = 'naive:'

/**
 * Reference for issue 15's cold-path goal: what a team would hand-write over one ioredis client
 * (auto-pipelining on), with no L1, no bus, no single-flight. Not a peer to beat.
 */
export const naiveIoredisContender: Contender = {
  id: 'naive-ioredis',
  label: 'naive ioredis GET + SET',
  packages: ['ioredis'],
  setup: `new Redis(url, { enableAutoPipelining: true }); get = GET + JSON.parse; set = SET key JSON PX ${TTL_MS}; getOrSet = GET, on null the loader then SET PX; delete = DEL; keys prefixed "${PREFIX}"`,
  async create(redisUrl) {
    const client = new Redis(redisUrl, { enableAutoPipelining: true })
    const set = async (key: string, value: unknown) => {
      await client.set(PREFIX + key, JSON.stringify(value), 'PX', TTL_MS)
    }
    const cache: CompareCache = {
      get: async (key) => {
        const text = await client.get(PREFIX + key)
        return text === null ? undefined : JSON.parse(text)
      },
      set,
      getOrSet: async (key, loader) => {
        const text = await client.get(PREFIX + key)
        if (text !== null) return JSON.parse(text)
        const value = await loader()
        await set(key, value)
        return value
      },
      delete: async (key) => {
        await client.del(PREFIX + key)
      },
      close: async () => {
        await client.quit()
      },
    }
    return cache
  },
}
