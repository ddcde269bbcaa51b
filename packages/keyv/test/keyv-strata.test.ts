import { Cache, CacheError, CacheErrorCode } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import Keyv from 'keyv'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { KeyvStrata, type KeyvStrataCache } from '../src/index.ts'

let now = 1_700_000_000_000
const caches: Cache[] = []

function memoryCache(options: { defaultTtl?: string } = {}): Cache {
  const cache = new Cache({ store: new MemoryStore({ now: () => now }), now: () => now, ...options })
  caches.push(cache)
  return cache
}

/** The Cache's methods the adapter may call, without setMany and deleteMany: the one-call-per-key path. */
function withoutBatches(cache: Cache): KeyvStrataCache {
  return {
    get: (key, options) => cache.get(key, options),
    getMany: (keys, options) => cache.getMany(keys, options),
    set: (key, value, options) => cache.set(key, value, options),
    delete: (key) => cache.delete(key),
    invalidate: (pattern) => cache.invalidate(pattern),
    close: () => cache.close(),
  }
}

afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})

describe('KeyvStrata', () => {
  it('stores under {prefix}{namespace}:{key} in the Cache, where Strata code can read it', async () => {
    const cache = memoryCache()
    const store = new KeyvStrata(cache)
    const keyv = new Keyv({ store, namespace: 'sessions' })
    await keyv.set('user:42', { name: 'Ada' })
    expect(store.cacheKey('sessions:user:42')).toBe('keyv:sessions:user:42')
    expect(JSON.parse(String(await cache.get('keyv:sessions:user:42')))).toEqual({ value: { name: 'Ada' } })
    expect(await keyv.get('user:42')).toEqual({ name: 'Ada' })
  })

  it('takes keys the key schema refuses, each apart from the others', async () => {
    const keyv = new Keyv({ store: new KeyvStrata(memoryCache()) })
    const keys = ['a b', 'ünïcödé', '日本語', '', "'", '\uD800', '\uFFFD', 'x'.repeat(2000), 'ns*?[]']
    for (const [i, key] of keys.entries()) expect(await keyv.set(key, i)).toBe(true)
    for (const [i, key] of keys.entries()) expect(await keyv.get(key), key).toBe(i)
  })

  it('clear() removes its namespace only: not other namespaces, not keyv1 for keyv, not the Cache', async () => {
    const cache = memoryCache()
    const keyvs = ['a', 'ab', 'my app', undefined].map(
      (namespace) => new Keyv({ store: new KeyvStrata(cache), namespace }),
    )
    const [a, ab, spaced, none] = keyvs as [Keyv, Keyv, Keyv, Keyv]
    const otherPrefix = new Keyv({ store: new KeyvStrata(cache, { prefix: 'other:' }), namespace: 'a' })
    for (const keyv of [...keyvs, otherPrefix]) await keyv.set('k', 'v')
    await cache.set('keyv:a', 'not a Keyv key')
    await cache.set('app:user:1', 'not a Keyv key')

    await a.clear()
    expect(await a.get('k')).toBeUndefined()
    expect(await ab.get('k')).toBe('v')
    expect(await spaced.get('k')).toBe('v')
    expect(await none.get('k')).toBe('v')
    expect(await otherPrefix.get('k')).toBe('v')
    expect(await cache.get('keyv:a')).toBe('not a Keyv key')
    expect(await cache.get('app:user:1')).toBe('not a Keyv key')

    await spaced.clear() // a hashed namespace segment
    await none.clear() // keys set without a namespace
    expect(await spaced.get('k')).toBeUndefined()
    expect(await none.get('k')).toBeUndefined()
    expect(await ab.get('k')).toBe('v')
  })

  it("gives the Cache entry Keyv's TTL, and a set without one the defaultTtl option", async () => {
    const cache = memoryCache({ defaultTtl: '1h' })
    const store = new KeyvStrata(cache, { defaultTtl: '10m' })
    const keyv = new Keyv({ store })
    await keyv.set('short', 1, 1000)
    await keyv.set('forever', 2)
    await keyv.set('zero', 3, 0) // Keyv: 0 means no TTL
    now += 1001
    // Strata itself dropped the entry, not only Keyv's check of its own `expires`.
    expect(await cache.get(store.cacheKey('keyv:short'))).toBeUndefined()
    expect(await keyv.get('forever')).toBe(2)
    now += 10 * 60_000
    expect(await keyv.get('forever')).toBeUndefined()
    expect(await keyv.get('zero')).toBeUndefined()
  })

  it("without the defaultTtl option a set without TTL gets the Cache's defaultTtl", async () => {
    const keyv = new Keyv({ store: new KeyvStrata(memoryCache({ defaultTtl: '5m' })) })
    await keyv.set('k', 1)
    now += 5 * 60_000 - 1
    expect(await keyv.get('k')).toBe(1)
    now += 1
    expect(await keyv.get('k')).toBeUndefined()
  })

  for (const batches of [true, false]) {
    it(`getMany, setMany, deleteMany and has ${batches ? 'through the Cache batches' : 'one key at a time'}`, async () => {
      const cache = memoryCache()
      const keyv = new Keyv({ store: new KeyvStrata(batches ? cache : withoutBatches(cache)) })
      await keyv.setMany([
        { key: 'a', value: 1 },
        { key: 'b c', value: 2, ttl: 1000 },
      ])
      expect(await keyv.get(['a', 'b c', 'missing'])).toEqual([1, 2, undefined])
      expect(await keyv.has('b c')).toBe(true)
      now += 1001
      expect(await keyv.has('b c')).toBe(false)
      expect(await keyv.delete(['a', 'missing'])).toBe(false)
      expect(await keyv.get('a')).toBeUndefined()
      await keyv.set('a', 1)
      await keyv.set('b', 2)
      expect(await keyv.delete(['a', 'b'])).toBe(true)
      expect(await keyv.get(['a', 'b'])).toEqual([undefined, undefined])
    })
  }

  it("reports a value Strata refuses on Keyv's error event; set resolves false", async () => {
    // Keyv's serializer off: the value reaches Strata's JSON serializer, which refuses a BigInt.
    const keyv = new Keyv({
      store: new KeyvStrata(memoryCache()),
      serialize: undefined,
      deserialize: undefined,
    })
    const errors: unknown[] = []
    keyv.on('error', (error) => errors.push(error))
    expect(await keyv.set('big', { n: 1n })).toBe(false)
    expect(CacheError.is(errors[0], CacheErrorCode.SERIALIZATION)).toBe(true)
    expect(await keyv.set('object', { n: 1 })).toBe(true)
    expect(await keyv.get('object')).toEqual({ n: 1 })
  })

  it('disconnect() closes the Cache unless closeOnDisconnect is false', async () => {
    const kept = memoryCache()
    await new Keyv({ store: new KeyvStrata(kept, { closeOnDisconnect: false }) }).disconnect()
    await kept.set('still', 'open')
    const closed = memoryCache()
    const close = vi.spyOn(closed, 'close')
    await new Keyv({ store: new KeyvStrata(closed) }).disconnect()
    expect(close).toHaveBeenCalledOnce()
    await expect(closed.set('k', 1)).rejects.toMatchObject({ code: CacheErrorCode.CLOSED })
  })

  it('refuses bad options with a CacheOptionError naming the option', () => {
    const cache = memoryCache()
    const optionOf = (run: () => unknown) => {
      try {
        run()
      } catch (error) {
        expect(CacheError.is(error, CacheErrorCode.INVALID_OPTION)).toBe(true)
        return (error as CacheError).option ?? (error as Error).message
      }
      throw new Error('expected a CacheOptionError')
    }
    expect(optionOf(() => new KeyvStrata(cache, { prefix: 'no-colon' }))).toBe('prefix')
    expect(optionOf(() => new KeyvStrata(cache, { prefix: 'a b:' }))).toBe('prefix')
    expect(optionOf(() => new KeyvStrata(cache, { prefix: `${'p'.repeat(64)}:` }))).toBe('prefix')
    expect(optionOf(() => new KeyvStrata(cache, { defaultTtl: 0 }))).toBe('defaultTtl')
    expect(optionOf(() => new KeyvStrata(cache, { ttl: 5 } as never))).toBe('ttl')
    expect(optionOf(() => new KeyvStrata(new Map() as never))).toMatch(/must be a Strata Cache/)
  })
})
