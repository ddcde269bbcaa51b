import type { Cache } from '@strata-cache/core'
import { type RedisServer, startRedisSentinel, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../src/create-cache.ts'
import type { TieredStore } from '../src/tiered-store.ts'
import { until } from './helpers/wait.ts'

// The sentinel must monitor a master we started: skipped when REDIS_URL names a server we do not own.
const external = Boolean(process.env.REDIS_URL)

describe.skipIf(external)(
  'createCache through Redis Sentinel (skipped when REDIS_URL names a server we do not own)',
  () => {
    let master: RedisServer
    let sentinel: RedisServer & { name: string }
    const caches: Cache[] = []

    beforeAll(async () => {
      master = await startRedisServer({ password: 'm4ster', ownServer: true })
      sentinel = await startRedisSentinel(master, { name: 'strata-tiered' })
    })

    afterAll(async () => {
      await Promise.all(caches.map((cache) => cache.close()))
      await sentinel?.stop()
      await master?.stop()
    })

    async function sentinelCache(prefix: string): Promise<Cache> {
      const cache = createCache({
        sentinel: {
          sentinels: [{ host: sentinel.host, port: sentinel.port }],
          name: sentinel.name,
          password: 'm4ster',
        },
        prefix,
        defaultTtl: '1m',
      })
      caches.push(cache)
      expect(await (cache.store as TieredStore).ready(10_000)).toBe(true)
      return cache
    }

    it('stores on the master the sentinels name, and invalidates across caches over its bus', async () => {
      const [a, b] = [await sentinelCache('sen:'), await sentinelCache('sen:')]
      await a.set('k', 'v1')
      expect(await b.get('k')).toBe('v1')
      const direct = new Redis(master.url)
      try {
        expect(await direct.exists('sen:k')).toBe(1)
        const [, subscribers] = (await direct.call('PUBSUB', 'NUMSUB', 'sen:bus')) as [string, number]
        expect(subscribers).toBe(2)
      } finally {
        direct.disconnect()
      }
      await a.set('k', 'v2')
      await until(async () => (await b.get('k')) === 'v2', 5000, 'set reaches b')
      let loads = 0
      const loader = async () => {
        loads++
        await new Promise((resolve) => setTimeout(resolve, 100))
        return 'loaded'
      }
      await Promise.all([
        a.getOrSet('hot', loader, { lock: true }),
        b.getOrSet('hot', loader, { lock: true }),
      ])
      expect(loads).toBe(1)
    })
  },
)
