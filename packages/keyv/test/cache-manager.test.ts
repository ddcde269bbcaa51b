import { Cache } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { createCache as createStrataCache, type TieredStore } from '@strata-cache/tiered'
import { createCache } from 'cache-manager'
import Keyv from 'keyv'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KeyvStrata } from '../src/index.ts'

// cache-manager 7 over Keyv over KeyvStrata, as a cache-manager user would wire it.
let server: RedisServer
const caches: Cache[] = []

beforeAll(async () => {
  server = await startRedisServer()
})
afterAll(async () => {
  await Promise.all(caches.map((cache) => cache.close()))
  await server?.stop()
})

const stores: [string, () => Promise<Cache>][] = [
  ['new Cache({ store: new MemoryStore() })', async () => new Cache({ store: new MemoryStore() })],
  [
    'createCache({ redisUrl }) (L1 + Redis + bus)',
    async () => {
      const cache = createStrataCache({ redisUrl: server.url, prefix: `keyv-cm-${process.pid}:` })
      await (cache.store as TieredStore).ready()
      return cache
    },
  ],
]

describe.each(stores)('cache-manager 7 on %s', (_name, strataCache) => {
  let cache: Cache
  beforeAll(async () => {
    cache = await strataCache()
    caches.push(cache)
  })

  function manager(namespace = 'cm') {
    const strataStore = new KeyvStrata(cache, { closeOnDisconnect: false })
    return createCache({ stores: [new Keyv({ store: strataStore, namespace })] })
  }

  it('wrap runs the function once, then serves the cached value', async () => {
    const cm = manager()
    let calls = 0
    const load = async () => {
      calls++
      return { price: 100 }
    }
    const results = await Promise.all([cm.wrap('wrap:1', load, 60_000), cm.wrap('wrap:1', load, 60_000)])
    expect(results).toEqual([{ price: 100 }, { price: 100 }])
    expect(await cm.wrap('wrap:1', load, 60_000)).toEqual({ price: 100 })
    // Another cache-manager over the same Strata Cache finds it too: no second load.
    expect(await manager().wrap('wrap:1', load, 60_000)).toEqual({ price: 100 })
    expect(calls).toBe(1)
  })

  it('mset, mget, get, del', async () => {
    const cm = manager()
    await cm.mset<unknown>([
      { key: 'a', value: 1 },
      { key: 'b c', value: { nested: [1, 2] }, ttl: 60_000 },
    ])
    expect(await cm.mget(['a', 'b c', 'missing'])).toEqual([1, { nested: [1, 2] }, undefined])
    expect(await cm.get('a')).toBe(1)
    expect(await cm.del('a')).toBe(true)
    expect(await cm.get('a')).toBeUndefined()
    expect(await cm.mdel(['b c'])).toBe(true)
    expect(await cm.get('b c')).toBeUndefined()
  })

  it('ttl gives the expiry cache-manager set, and the value expires with it', async () => {
    const cm = manager()
    const before = Date.now()
    await cm.set('short', 'v', 300)
    const expires = await cm.ttl('short')
    expect(expires).toBeGreaterThanOrEqual(before + 300)
    expect(expires).toBeLessThanOrEqual(Date.now() + 300)
    expect(await cm.ttl('missing')).toBeUndefined()
    await new Promise((resolve) => setTimeout(resolve, 350))
    expect(await cm.get('short')).toBeUndefined()
    // Strata's own entry is gone as well, not only Keyv's expiry check.
    expect(await cache.get(new KeyvStrata(cache).cacheKey('keyv:short'))).toBeUndefined()
  })

  it("clear empties this cache-manager's namespace and leaves the others", async () => {
    const mine = manager('mine')
    const theirs = manager('theirs')
    await mine.set('k', 'mine')
    await theirs.set('k', 'theirs')
    await cache.set('app:user:1', 'strata')
    expect(await mine.clear()).toBe(true)
    expect(await mine.get('k')).toBeUndefined()
    expect(await theirs.get('k')).toBe('theirs')
    expect(await cache.get('app:user:1')).toBe('strata')
  })

  it('disconnect closes the Strata Cache by default', async () => {
    const own = await strataCache()
    const cm = createCache({ stores: [new Keyv({ store: new KeyvStrata(own) })] })
    await cm.set('k', 1)
    await cm.disconnect()
    expect((await own.health()).status).toBe('down')
  })
})
