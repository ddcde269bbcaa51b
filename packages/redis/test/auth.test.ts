import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { entry, redisCli, uniquePrefix } from './helpers.ts'

// requirepass needs a server we configure; REDIS_URL may point at one without it.
const external = Boolean(process.env.REDIS_URL)

describe.skipIf(external)(
  'RedisStore with a password in the URL (requirepass; skipped when REDIS_URL names a server we did not configure)',
  () => {
    let server: RedisServer

    beforeAll(async () => {
      server = await startRedisServer({ password: 's3cret/with:chars' })
    })

    afterAll(async () => {
      await server?.stop()
    })

    it('authenticates with the password from the URL', async () => {
      expect(server.url).toContain('@127.0.0.1')
      const store = new RedisStore({ url: server.url, prefix: uniquePrefix() })
      try {
        await store.set('k', entry('v'))
        expect((await store.get('k'))?.value).toBe('v')
        expect(store.isAvailable()).toBe(true)
      } finally {
        await store.close()
      }
    })

    it('authenticates an ACL user given in the URL', async () => {
      await redisCli(
        server.port,
        ['ACL', 'SETUSER', 'strata-app', 'on', '>app-pass', '~*', '+@all'],
        server.password,
      )
      const store = new RedisStore({
        url: `redis://strata-app:app-pass@127.0.0.1:${server.port}`,
        prefix: uniquePrefix(),
      })
      try {
        await store.set('k', entry('acl'))
        expect((await store.get('k'))?.value).toBe('acl')
        expect(await store.withClient((c) => c.call('ACL', 'WHOAMI'))).toBe('strata-app')
      } finally {
        await store.close()
      }
    })

    it('with a wrong password: every call resolves as a miss or no-op and errors are reported', async () => {
      const url = `redis://:wrong@127.0.0.1:${server.port}`
      const store = new RedisStore({ url, prefix: uniquePrefix(), connectTimeout: 300 })
      const codes: string[] = []
      store.subscribe((e) => e.type === 'error' && codes.push((e.error as { code: string }).code))
      try {
        await expect(store.set('k', entry('v'))).resolves.toBeUndefined()
        expect(await store.get('k')).toBeUndefined()
        expect(await store.delete('k')).toBe(false)
        expect(await store.deletePattern('*')).toBe(0)
        expect(await store.deleteTags(['t'])).toBe(0)
        await expect(store.clear()).resolves.toBeUndefined()
        expect(codes.length).toBeGreaterThanOrEqual(6)
        expect(store.isAvailable()).toBe(false)
        expect((await store.health())[0]!.status).toBe('down')
      } finally {
        await store.close()
      }
    })
  },
)
