import { CacheError, CacheErrorCode } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import { entryAt, START, setup } from './helpers.ts'

describe('MemoryStore purgeWrittenBefore', () => {
  it('removes entries written into the store before the instant, by local write time', async () => {
    const { store, clock } = setup()
    await store.set('early', entryAt(START, 'e'))
    clock.advance(10)
    // Filled from L2: old createdAt, but written here now.
    await store.set('filled', entryAt(START - 3_600_000, 'f', { ttl: 7_200_000 }))
    await store.set('rewritten', entryAt(START, 'r'))
    clock.advance(10)
    await store.set('late', entryAt(clock.now(), 'l'))
    expect(store.purgeWrittenBefore(START + 10)).toBe(1)
    expect([...store.keys()].sort()).toEqual(['filled', 'late', 'rewritten'])
    expect(store.purgeWrittenBefore(START + 20)).toBe(2)
    expect([...store.keys()]).toEqual(['late'])
    expect(store.purgeWrittenBefore(START)).toBe(0)
  })

  it('counts only entries still servable, and forgets their tags', async () => {
    const { store, clock } = setup()
    await store.set('dead', entryAt(START, 1, { ttl: 5 }))
    await store.set('live', entryAt(START, 2, { tags: ['t'] }))
    clock.advance(5)
    expect(store.purgeWrittenBefore(clock.now())).toBe(1)
    expect(store.size).toBe(0)
    await store.set('live', entryAt(clock.now(), 3))
    expect(await store.deleteTags(['t'])).toBe(0)
  })

  it('refuses a non-number instant', () => {
    const { store } = setup()
    try {
      store.purgeWrittenBefore('yesterday' as unknown as number)
      expect.unreachable('should throw')
    } catch (error) {
      expect(CacheError.is(error, CacheErrorCode.INVALID_OPTION)).toBe(true)
      expect((error as Error).message).toMatch(/epochMs must be a number, got yesterday/)
    }
  })
})

describe('MemoryStore keys() and size', () => {
  it('lists servable keys, most recently used first, without changing recency', async () => {
    const { store, clock } = setup({ maxEntries: 3 })
    await store.set('a', entryAt(START, 1))
    await store.set('b', entryAt(START, 1, { ttl: 100 }))
    await store.set('c', entryAt(START, 1))
    store.peek('a')
    expect([...store.keys()]).toEqual(['a', 'c', 'b'])
    clock.advance(100)
    expect([...store.keys()]).toEqual(['a', 'c'])
    expect(store.size).toBe(3) // b is held until seen or purged
    await store.set('d', entryAt(clock.now(), 1)) // evicts the least recent: b
    expect([...store.keys()]).toEqual(['d', 'a', 'c'])
  })

  it('is a snapshot: reading and deleting while iterating is safe', async () => {
    const { store } = setup()
    for (const key of ['a', 'b', 'c']) await store.set(key, entryAt(START, key))
    const seen: string[] = []
    for (const key of store.keys()) {
      seen.push(key)
      store.peek(key)
      await store.delete(key === 'c' ? 'b' : 'zzz')
    }
    expect(seen).toEqual(['c', 'b', 'a'])
    expect([...store.keys()].sort()).toEqual(['a', 'c'])
  })
})

describe('MemoryStore stats and health', () => {
  it('counts hits and misses of peek, get and getMany, and entries', async () => {
    const { store, clock } = setup()
    await store.set('a', entryAt(START, 'a', { ttl: 1_000 }))
    await store.set('b', entryAt(START, 'b'))
    store.peek('a')
    store.peek('nope')
    await store.get('b')
    await store.getMany(['a', 'b', 'nope'])
    clock.advance(1_000)
    await store.get('a') // past staleUntil: a miss
    expect(await store.stats()).toEqual([
      { tier: 'memory', available: true, entries: 1, bytes: 3, evictions: 0, hits: 4, misses: 3 },
    ])
  })

  it('counts every separate read of a missing key, also back to back', async () => {
    const { store } = setup()
    expect(await store.get('nope')).toBeUndefined()
    expect(await store.get('nope')).toBeUndefined()
    store.peek('nope')
    await Promise.resolve()
    store.peek('nope')
    expect((await store.stats())[0]).toMatchObject({ hits: 0, misses: 4 })
  })

  it('after close: health down, stats unavailable, peek misses, operations reject with E_CLOSED', async () => {
    const { store } = setup()
    await store.set('a', entryAt(START, 'a'))
    await store.close()
    expect(await store.health()).toEqual([{ tier: 'memory', status: 'down', message: 'closed' }])
    expect((await store.stats())[0]).toMatchObject({ tier: 'memory', available: false, entries: 0 })
    expect(store.peek('a')).toBeUndefined()
    expect(store.purgeWrittenBefore(Number.MAX_SAFE_INTEGER)).toBe(0)
    await expect(store.get('a')).rejects.toMatchObject({ code: CacheErrorCode.CLOSED })
    await expect(store.set('a', entryAt(START, 'a'))).rejects.toThrow(/MemoryStore "memory" is closed/)
  })
})
