import { describe, expect, it } from 'vitest'
import { Cache, type CacheEntry, CacheError, jsonSerializer, type LoadToken } from '../src/index.ts'
import { MapStore } from './fixtures/map-store.ts'

/** A MapStore with the batched and fenced paths, recording what reached it. */
class BatchStore extends MapStore {
  readonly log: string[] = []
  generation = 0

  async getMany<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]> {
    this.log.push(`getMany:${keys.join(',')}`)
    return Promise.all(keys.map((key) => super.get<T>(key)))
  }

  async setMany<T>(entries: readonly [string, CacheEntry<T>][]): Promise<void> {
    this.log.push(`setMany:${entries.map(([key]) => key).join(',')}`)
    for (const [, entry] of entries) jsonSerializer.serialize(entry.value) // all or nothing, like a real store
    for (const [key, entry] of entries) await super.set(key, entry)
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    this.log.push(`deleteMany:${keys.join(',')}`)
    let n = 0
    for (const key of keys) if (this.data.delete(key)) n++
    return n
  }

  startLoad(key: string): LoadToken {
    this.log.push(`start:${key}`)
    return this.generation
  }

  async setLoaded<T>(key: string, entry: CacheEntry<T>, token: LoadToken): Promise<boolean> {
    this.log.push(`setLoaded:${key}`)
    if (token !== this.generation) return false
    await super.set(key, entry)
    return true
  }

  async setLoadedMany<T>(entries: readonly [string, CacheEntry<T>, LoadToken][]): Promise<boolean[]> {
    this.log.push(`setLoadedMany:${entries.map(([key]) => key).join(',')}`)
    const out: boolean[] = []
    for (const [key, entry, token] of entries) {
      if (token !== this.generation) out.push(false)
      else {
        await super.set(key, entry)
        out.push(true)
      }
    }
    return out
  }
}

const deferred = <T>() => {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('getOrSetMany', () => {
  it('returns values in key order; the loader gets only the missing keys, once each', async () => {
    const store = new BatchStore()
    const cache = new Cache({ store })
    await cache.set('b:1', 'one')
    const calls: string[][] = []
    const values = await cache.getOrSetMany(['b:1', 'b:2', 'b:3', 'b:2'], async (missing) => {
      calls.push(missing)
      return new Map(missing.map((key) => [key, `v-${key}`]))
    })
    expect(values).toEqual(['one', 'v-b:2', 'v-b:3', 'v-b:2'])
    expect(calls).toEqual([['b:2', 'b:3']])
    // One batched read, tokens before the loader, one batched fenced write.
    expect(store.log).toEqual(['getMany:b:1,b:2,b:3,b:2', 'start:b:2', 'start:b:3', 'setLoadedMany:b:2,b:3'])
    expect(await cache.get('b:3')).toBe('v-b:3')
    const stats = await cache.stats()
    expect(stats.loader.runs).toBe(1)
    expect(stats.sets).toBe(3) // the set of b:1, then the two loaded
  })

  it('accepts a plain object; a key the loader leaves out is a miss, nothing cached', async () => {
    const store = new BatchStore()
    const cache = new Cache({ store })
    const values = await cache.getOrSetMany<number>(['o:1', 'o:2'], async () => ({ 'o:1': 1 }))
    expect(values).toEqual([1, undefined])
    expect(store.data.has('o:2')).toBe(false)
    expect(await cache.get('o:1')).toBe(1)
  })

  it('does not write a result the store judges too old (the key changed while loading)', async () => {
    const store = new BatchStore()
    const cache = new Cache({ store })
    const values = await cache.getOrSetMany(['f:1'], async () => {
      store.generation++ // another process changed the data meanwhile
      return { 'f:1': 'old' }
    })
    expect(values).toEqual(['old'])
    expect(store.data.has('f:1')).toBe(false)
    expect((await cache.stats()).sets).toBe(0)
  })

  it('awaits a key getOrSet is already loading instead of loading it again', async () => {
    const store = new BatchStore()
    const cache = new Cache({ store })
    const gate = deferred<string>()
    let single = 0
    const first = cache.getOrSet('s:1', () => {
      single++
      return gate.promise
    })
    await new Promise((resolve) => setTimeout(resolve, 5))
    const batch: string[][] = []
    const many = cache.getOrSetMany(['s:1', 's:2'], async (missing) => {
      batch.push(missing)
      return Object.fromEntries(missing.map((key) => [key, `batch-${key}`]))
    })
    await new Promise((resolve) => setTimeout(resolve, 5))
    gate.resolve('single')
    expect(await many).toEqual(['single', 'batch-s:2'])
    expect(await first).toBe('single')
    expect(batch).toEqual([['s:2']])
    expect(single).toBe(1)
  })

  it('a getOrSet of a key in a running batch joins it; left out, it runs its own loader', async () => {
    const store = new BatchStore()
    const cache = new Cache({ store })
    const gate = deferred<Record<string, string>>()
    const many = cache.getOrSetMany(['j:1', 'j:2'], () => gate.promise)
    await new Promise((resolve) => setTimeout(resolve, 5))
    let own = 0
    const joined = cache.getOrSet('j:1', () => {
      own++
      return 'own-1'
    })
    const leftOut = cache.getOrSet('j:2', () => {
      own++
      return 'own-2'
    })
    gate.resolve({ 'j:1': 'batch-1' })
    expect(await many).toEqual(['batch-1', undefined])
    expect(await joined).toBe('batch-1')
    expect(await leftOut).toBe('own-2')
    expect(own).toBe(1)
  })

  it('a failing loader rejects, but keys with a value within grace are served stale', async () => {
    let now = 1_000_000
    const store = new BatchStore(() => now)
    const cache = new Cache({ store, now: () => now, defaultTtl: 1000, grace: 60_000 })
    await cache.set('g:1', 'old-1')
    now += 2000
    const boom = new Error('db down')
    await expect(cache.getOrSetMany(['g:1', 'g:2'], () => Promise.reject(boom))).rejects.toBe(boom)
    expect(await cache.getOrSetMany(['g:1'], () => Promise.reject(boom))).toEqual(['old-1'])
    const stats = await cache.stats()
    expect(stats.loader.errors).toBe(2)
    expect(stats.staleHits).toBeGreaterThanOrEqual(1)
  })

  it('does not write a result whose key was invalidated while the loader ran', async () => {
    const store = new BatchStore()
    const cache = new Cache({ store })
    const gate = deferred<Record<string, string>>()
    const many = cache.getOrSetMany(['i:1', 'i:2'], () => gate.promise)
    await new Promise((resolve) => setTimeout(resolve, 5))
    await cache.delete('i:1')
    gate.resolve({ 'i:1': 'x', 'i:2': 'y' })
    expect(await many).toEqual(['x', 'y'])
    expect(store.data.has('i:1')).toBe(false)
    expect(store.data.has('i:2')).toBe(true)
  })

  it('refuses bad input before any I/O', async () => {
    const store = new BatchStore()
    const cache = new Cache({ store })
    await expect(cache.getOrSetMany(['ok', 'not ok'], async () => ({}))).rejects.toSatisfy((e) =>
      CacheError.is(e, 'E_INVALID_KEY'),
    )
    await expect(cache.getOrSetMany(['ok'], 'nope' as never)).rejects.toSatisfy((e) =>
      CacheError.is(e, 'E_INVALID_OPTION'),
    )
    await expect(cache.getOrSetMany(['ok'], async () => ({}), { lock: true } as never)).rejects.toSatisfy(
      (e) => CacheError.is(e, 'E_INVALID_OPTION'),
    )
    await expect(cache.getOrSetMany(['ok'], async () => [1] as never)).rejects.toSatisfy((e) =>
      CacheError.is(e, 'E_INVALID_OPTION'),
    )
    expect(store.log.filter((l) => !l.startsWith('getMany') && !l.startsWith('start'))).toEqual([])
    expect(await cache.getOrSetMany([], async () => ({}))).toEqual([])
  })

  it('falls back to setLoaded per key, then to setMany, on stores without the batched path', async () => {
    const perKey = new BatchStore()
    Object.assign(perKey, { setLoadedMany: undefined })
    const cache = new Cache({ store: perKey })
    await cache.getOrSetMany(['p:1', 'p:2'], async (keys) => Object.fromEntries(keys.map((k) => [k, k])))
    expect(perKey.log.filter((l) => l.startsWith('setLoaded'))).toEqual(['setLoaded:p:1', 'setLoaded:p:2'])
    const plain = new BatchStore()
    Object.assign(plain, { setLoadedMany: undefined, setLoaded: undefined, startLoad: undefined })
    const other = new Cache({ store: plain })
    await other.getOrSetMany(['q:1', 'q:2'], async (keys) => Object.fromEntries(keys.map((k) => [k, k])))
    expect(plain.log).toEqual(['getMany:q:1,q:2', 'setMany:q:1,q:2'])
  })
})

describe('setMany and deleteMany', () => {
  it('setMany writes in one batch, each entry with its own TTL and tags or the call defaults', async () => {
    let now = 1_000_000
    const store = new BatchStore(() => now)
    const cache = new Cache({ store, now: () => now, defaultTtl: 10_000 })
    const sets: string[] = []
    cache.on('set', (e) => sets.push(`${e.key}:${e.ttlMs}:${e.tags?.join('+') ?? ''}`))
    await cache.setMany(
      [
        { key: 'm:1', value: 1 },
        { key: 'm:2', value: { two: 2 }, ttl: '1s', tags: ['t2'] },
      ],
      { ttl: 5000, tags: ['all'] },
    )
    expect(store.log).toEqual(['setMany:m:1,m:2'])
    expect(sets).toEqual(['m:1:5000:all', 'm:2:1000:t2'])
    now += 2000
    expect(await cache.getMany(['m:1', 'm:2'])).toEqual([1, undefined])
    expect(await cache.invalidateTags(['all'])).toBe(1)
  })

  it('setMany refuses every entry when one is bad (key, field, value), writing nothing', async () => {
    const store = new BatchStore()
    const cache = new Cache({ store })
    const bad = [
      [
        { key: 'ok', value: 1 },
        { key: 'bad key', value: 2 },
      ],
      [{ key: 'ok', value: 1, ttl: -1 }],
      [{ key: 'ok', value: 1, extra: true }],
      [
        { key: 'ok', value: 1 },
        { key: 'fn', value: () => 1 },
      ],
    ]
    for (const entries of bad)
      await expect(cache.setMany(entries as never)).rejects.toBeInstanceOf(CacheError)
    expect(store.data.size).toBe(0)
  })

  it('deleteMany removes in one batch, resolves the count and drops running loads of those keys', async () => {
    const store = new BatchStore()
    const cache = new Cache({ store })
    await cache.setMany([
      { key: 'd:1', value: 1 },
      { key: 'd:2', value: 2 },
    ])
    const invalidations: unknown[] = []
    cache.on('invalidate', (e) => invalidations.push(e))
    const gate = deferred<number>()
    const loading = cache.getOrSet('d:3', () => gate.promise)
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await cache.deleteMany(['d:1', 'd:2', 'd:3'])).toBe(2)
    gate.resolve(3)
    expect(await loading).toBe(3)
    expect(store.data.has('d:3')).toBe(false) // invalidated while loading: not written
    expect(store.log).toContain('deleteMany:d:1,d:2,d:3')
    expect(invalidations).toEqual([{ kind: 'key', source: 'local', keys: ['d:1', 'd:2', 'd:3'], count: 2 }])
    expect((await cache.stats()).deletes).toBe(3)
  })

  it('deleteMany falls back to delete per key on a store without it', async () => {
    const store = new MapStore()
    const cache = new Cache({ store })
    await cache.set('x:1', 1)
    expect(await cache.deleteMany(['x:1', 'x:2'])).toBe(1)
    expect(await cache.deleteMany([])).toBe(0)
  })
})
