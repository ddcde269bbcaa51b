import { type RedisServer, startRedisSentinel, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { entry, uniquePrefix } from './helpers.ts'

// The sentinel must monitor a master it can reach by a known address; with REDIS_URL we would be
// pointing a sentinel at a server we do not own, so this is skipped.
const external = Boolean(process.env.REDIS_URL)

describe.skipIf(external)(
  'RedisStore through Redis Sentinel (skipped when REDIS_URL names a server we do not own)',
  () => {
    let master: RedisServer
    let sentinel: RedisServer & { name: string }

    beforeAll(async () => {
      master = await startRedisServer({ password: 'm4ster' })
      sentinel = await startRedisSentinel(master, { name: 'strata-master' })
    })

    afterAll(async () => {
      await sentinel?.stop()
      await master?.stop()
    })

    it('finds the master through the sentinel and stores entries there', async () => {
      const store = new RedisStore({
        sentinel: {
          sentinels: [{ host: sentinel.host, port: sentinel.port }],
          name: sentinel.name,
          password: 'm4ster',
        },
        prefix: uniquePrefix('sentinel'),
      })
      try {
        await store.set('k', entry('via sentinel', { tags: ['t'] }))
        expect((await store.get('k'))?.value).toBe('via sentinel')
        expect(store.isAvailable()).toBe(true)
        // It really is on the master the sentinel named.
        const direct = new RedisStore({ url: master.url, prefix: store.prefix })
        expect((await direct.get('k'))?.value).toBe('via sentinel')
        await direct.close()
        expect(await store.deleteTags(['t'])).toBe(1)
      } finally {
        await store.close()
      }
    })
  },
)
