import { CacheError, CacheErrorCode, jsonSerializer } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import { entryAt, START, setup, thrownBy } from './helpers.ts'

// Test files are ES modules, hence strict mode: writes to frozen objects throw.

/** A value as a store decoding JSON would hand it over: fresh, with the byte length of its text. */
function decoded<T>(value: T): { value: T; bytes: number } {
  const text = jsonSerializer.serialize(value)
  return { value: jsonSerializer.deserialize(text) as T, bytes: Buffer.byteLength(text) }
}

describe("MemoryStore fill ('frozen-copy')", () => {
  it('takes the value over: serves that very object, deep-frozen in place, Dates included', () => {
    const { store } = setup()
    const { value, bytes } = decoded({ user: { roles: ['admin'] }, at: new Date(START) })
    store.fill('k', entryAt(START, value), bytes)
    const held = store.peek<typeof value>('k')!
    expect(held.value).toBe(value)
    expect(held.tier).toBe('memory')
    expect(Object.isFrozen(value.user.roles)).toBe(true)
    expect(() => value.user.roles.push('root')).toThrow(TypeError)
    expect(() => value.at.setFullYear(2000)).toThrow(/frozen/)
    expect(value.at.getTime()).toBe(START)
    expect(() => {
      ;(held as { staleUntil: number }).staleUntil = Number.MAX_SAFE_INTEGER
    }).toThrow(TypeError)
  })

  it('counts sizeBytes as a set of the same value would, for stats and maxBytes eviction', async () => {
    const { store } = setup({ maxBytes: 100 })
    const { store: copies } = setup({ maxBytes: 100 })
    const a = decoded({ text: 'é'.repeat(20) })
    store.fill('a', entryAt(START, a.value), a.bytes)
    await copies.set('a', entryAt(START, { text: 'é'.repeat(20) }))
    expect((await store.stats())[0]?.bytes).toBe(a.bytes)
    expect((await copies.stats())[0]?.bytes).toBe(a.bytes)
    store.fill('b', entryAt(START, 'b'), 50)
    expect(store.peek('a')).toBeUndefined() // 51 + 50 > 100: the least recently used went
    expect((await store.stats())[0]).toMatchObject({ bytes: 50, evictions: 1 })
    store.fill('b', entryAt(START, 'b2'), 10) // an overwrite releases the old size
    expect((await store.stats())[0]?.bytes).toBe(10)
    await store.delete('b')
    expect((await store.stats())[0]?.bytes).toBe(0)
  })

  it('refuses a value over maxBytes before freezing or writing anything; the previous entry stays', () => {
    const { store } = setup({ maxBytes: 100 })
    store.fill('k', entryAt(START, 'old'), 5)
    const value = { big: true }
    const error = thrownBy(() => store.fill('k', entryAt(START, value), 101))
    expect(CacheError.is(error, CacheErrorCode.VALUE_TOO_LARGE)).toBe(true)
    expect((error as Error).message).toMatch(/"k".*101 bytes, over maxBytes 100/)
    expect(Object.isFrozen(value)).toBe(false)
    expect(store.peek('k')?.value).toBe('old')
  })

  it('refuses a bad sizeBytes and an undefined value, naming them', () => {
    const { store } = setup()
    for (const size of [-1, 1.5, Number.NaN, '10' as unknown as number]) {
      const error = thrownBy(() => store.fill('k', entryAt(START, 1), size))
      expect(CacheError.is(error, CacheErrorCode.INVALID_OPTION)).toBe(true)
      expect((error as CacheError).option).toBe('sizeBytes')
    }
    const error = thrownBy(() => store.fill('k', entryAt(START, undefined), 1))
    expect(CacheError.is(error, CacheErrorCode.SERIALIZATION)).toBe(true)
    const badEntry = thrownBy(() => store.fill('k', { ...entryAt(START, 1), expiresAt: Number.NaN }, 1))
    expect((badEntry as CacheError).option).toBe('entry.expiresAt')
    expect(store.size).toBe(0)
  })

  it('indexes tags and records the local write time, like set', async () => {
    const { store, clock } = setup()
    store.fill('a', entryAt(START - 3_600_000, 'a', { ttl: 7_200_000, tags: ['t'] }), 3)
    clock.advance(10)
    store.fill('b', entryAt(START, 'b', { tags: ['u'] }), 3)
    expect(store.purgeWrittenBefore(START + 1)).toBe(1) // 'a' was written here at START
    expect(store.peek('a')).toBeUndefined()
    expect(await store.deleteTags(['u'])).toBe(1)
    expect(store.size).toBe(0)
  })

  it('an entry already past staleUntil is not stored and removes the previous one', () => {
    const { store, clock } = setup()
    store.fill('k', entryAt(START, 'v'), 1)
    store.fill('k', entryAt(clock.now() - 120_000, 'old'), 3)
    expect(store.peek('k')).toBeUndefined()
  })

  it('rejects with E_CLOSED once closed', async () => {
    const { store } = setup()
    await store.close()
    expect(
      CacheError.is(
        thrownBy(() => store.fill('k', entryAt(START, 1), 1)),
        CacheErrorCode.CLOSED,
      ),
    ).toBe(true)
  })
})

describe("MemoryStore fill ('reference')", () => {
  it('is set: the object is kept as is, not frozen, measured by sizeOf rather than sizeBytes', async () => {
    const { store } = setup({ values: 'reference', maxBytes: 100, sizeOf: () => 7 })
    const value = { n: 1 }
    store.fill('k', entryAt(START, value), 99)
    expect(store.peek('k')?.value).toBe(value)
    expect(Object.isFrozen(value)).toBe(false)
    expect((await store.stats())[0]?.bytes).toBe(7)
  })
})
