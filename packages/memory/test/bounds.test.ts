import { CacheError, CacheErrorCode } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import { entryAt, present, rejectionOf, START, setup } from './helpers.ts'

// A string of n ASCII characters serializes to n + 2 bytes (its quotes).
const text = (bytes: number) => 'x'.repeat(bytes - 2)

describe('MemoryStore maxEntries', () => {
  it('evicts the least recently used entry, where reads count as use', async () => {
    const { store } = setup({ maxEntries: 3 })
    for (const key of ['a', 'b', 'c']) await store.set(key, entryAt(START, key))
    expect(store.peek('a')?.value).toBe('a')
    await store.set('d', entryAt(START, 'd'))
    expect(present(store, ['a', 'b', 'c', 'd'])).toEqual(['a', 'c', 'd'])
    expect((await store.get('c'))?.value).toBe('c')
    await store.set('e', entryAt(START, 'e'))
    expect(present(store, ['a', 'b', 'c', 'd', 'e'])).toEqual(['c', 'd', 'e'])
    expect(store.size).toBe(3)
    expect((await store.stats())[0]?.evictions).toBe(2)
  })

  it('an overwrite is not an eviction and keeps the count', async () => {
    const { store } = setup({ maxEntries: 2 })
    await store.set('a', entryAt(START, 1))
    await store.set('b', entryAt(START, 1))
    await store.set('a', entryAt(START, 2))
    expect(store.size).toBe(2)
    expect((await store.stats())[0]?.evictions).toBe(0)
    expect(store.peek('b')?.value).toBe(1)
  })
})

describe('MemoryStore maxBytes', () => {
  it('counts each entry as its serialized size in UTF-8 bytes', async () => {
    const { store } = setup({ maxBytes: 1_000 })
    await store.set('ascii', entryAt(START, text(40)))
    await store.set('accents', entryAt(START, 'éé')) // "éé" is 6 bytes
    await store.set('object', entryAt(START, { a: 1 })) // {"a":1} is 7 bytes
    expect((await store.stats())[0]?.bytes).toBe(53)
  })

  it('evicts least recently used entries to stay within maxBytes', async () => {
    const { store } = setup({ maxBytes: 100 })
    await store.set('a', entryAt(START, text(40)))
    await store.set('b', entryAt(START, text(40)))
    store.peek('a')
    await store.set('c', entryAt(START, text(40)))
    expect(present(store, ['a', 'b', 'c'])).toEqual(['a', 'c'])
    const [row] = await store.stats()
    expect(row?.bytes).toBe(80)
    expect(row?.evictions).toBe(1)
    // One large value may push out several small ones.
    await store.set('d', entryAt(START, text(90)))
    expect(present(store, ['a', 'b', 'c', 'd'])).toEqual(['d'])
    expect((await store.stats())[0]?.bytes).toBe(90)
  })

  it('never holds more than maxBytes across many writes', async () => {
    const { store } = setup({ maxBytes: 500 })
    for (let i = 0; i < 200; i++) {
      await store.set(`k:${i}`, entryAt(START, text(10 + ((i * 37) % 120))))
      const [row] = await store.stats()
      expect(row?.bytes).toBeLessThanOrEqual(500)
    }
    // The byte figure matches what is actually held.
    let sum = 0
    for (const key of store.keys()) sum += Buffer.byteLength(JSON.stringify(store.peek(key)?.value))
    expect((await store.stats())[0]?.bytes).toBe(sum)
  })

  it('refuses a single value over maxBytes, naming the key and sizes, and keeps everything', async () => {
    const { store } = setup({ maxBytes: 100 })
    await store.set('big', entryAt(START, 'small'))
    await store.set('other', entryAt(START, 'kept'))
    const error = await rejectionOf(store.set('big', entryAt(START, text(101))))
    expect(CacheError.is(error, CacheErrorCode.VALUE_TOO_LARGE)).toBe(true)
    expect((error as CacheError).key).toBe('big')
    expect((error as Error).message).toMatch(/"big".*101 bytes.*maxBytes 100/)
    expect(store.peek('big')?.value).toBe('small')
    expect(store.peek('other')?.value).toBe('kept')
    expect((await store.stats())[0]?.evictions).toBe(0)
  })

  it('accepts a value of exactly maxBytes', async () => {
    const { store } = setup({ maxBytes: 100 })
    await store.set('exact', entryAt(START, text(100)))
    expect(store.peek('exact')).toBeDefined()
  })

  it('releases bytes on overwrite, delete, pattern and tag deletes, and clear', async () => {
    const { store } = setup({ maxBytes: 1_000 })
    const bytes = async () => (await store.stats())[0]?.bytes
    await store.set('a', entryAt(START, text(50), { tags: ['t'] }))
    await store.set('a', entryAt(START, text(30), { tags: ['t'] }))
    expect(await bytes()).toBe(30)
    await store.set('b', entryAt(START, text(20)))
    await store.set('c', entryAt(START, text(10)))
    await store.delete('b')
    expect(await bytes()).toBe(40)
    await store.deleteTags(['t'])
    expect(await bytes()).toBe(10)
    await store.set('d', entryAt(START, text(5)))
    await store.deletePattern('c')
    expect(await bytes()).toBe(5)
    await store.clear()
    expect(await bytes()).toBe(0)
  })
})

describe('MemoryStore tag index', () => {
  it('forgets an evicted key, so a later untagged write of it is not deleted by tag', async () => {
    const { store } = setup({ maxEntries: 2 })
    await store.set('a', entryAt(START, 'a', { tags: ['t'] }))
    await store.set('b', entryAt(START, 'b', { tags: ['t'] }))
    await store.set('c', entryAt(START, 'c')) // evicts a
    expect(store.peek('a')).toBeUndefined()
    await store.set('a', entryAt(START, 'a again')) // evicts b
    expect(await store.deleteTags(['t'])).toBe(0)
    expect(present(store, ['a', 'b', 'c'])).toEqual(['a', 'c'])
  })

  it('forgets a key removed for being past staleUntil', async () => {
    const { store, clock } = setup()
    await store.set('a', entryAt(START, 'a', { ttl: 1_000, tags: ['t'] }))
    clock.advance(1_000)
    expect(store.peek('a')).toBeUndefined()
    await store.set('a', entryAt(clock.now(), 'fresh'))
    expect(await store.deleteTags(['t'])).toBe(0)
    expect(store.peek('a')?.value).toBe('fresh')
  })

  it('keeps the index of survivors through evictions by bytes', async () => {
    const { store } = setup({ maxBytes: 100 })
    await store.set('a', entryAt(START, text(40), { tags: ['x', 'y'] }))
    await store.set('b', entryAt(START, text(40), { tags: ['y'] }))
    await store.set('c', entryAt(START, text(40), { tags: ['x'] })) // evicts a
    expect(await store.deleteTags(['y'])).toBe(1)
    expect(present(store, ['a', 'b', 'c'])).toEqual(['c'])
    expect(await store.deleteTags(['x'])).toBe(1)
    expect(store.size).toBe(0)
  })
})

describe('MemoryStore entries past staleUntil but not yet seen', () => {
  it('are removed by deletes without being counted', async () => {
    const { store, clock } = setup()
    await store.set('gone:1', entryAt(START, 1, { ttl: 1_000, tags: ['t'] }))
    await store.set('gone:2', entryAt(START, 2, { ttl: 1_000, tags: ['t'] }))
    await store.set('gone:3', entryAt(START, 3, { ttl: 1_000 }))
    await store.set('live:1', entryAt(START, 4, { ttl: 5_000, tags: ['t'] }))
    clock.advance(1_000)
    expect(store.size).toBe(4)
    expect(await store.delete('gone:3')).toBe(false)
    expect(await store.deleteTags(['t'])).toBe(1)
    expect(store.size).toBe(0)
    await store.set('gone:4', entryAt(START, 1, { ttl: 1_500 }))
    clock.advance(500)
    expect(await store.deletePattern('gone:*')).toBe(0)
    expect(store.size).toBe(0)
  })

  it('are dropped by purgeStale, which counts them', async () => {
    const { store, clock } = setup()
    await store.set('a', entryAt(START, 1, { ttl: 1_000 }))
    await store.set('b', entryAt(START, 1, { ttl: 1_000, grace: 1_000 }))
    await store.set('c', entryAt(START, 1, { ttl: 3_000 }))
    clock.advance(2_000)
    expect(store.purgeStale()).toBe(2)
    expect([...store.keys()]).toEqual(['c'])
    expect(store.size).toBe(1)
  })
})
