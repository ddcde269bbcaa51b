import { CacheError, CacheErrorCode } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import { entryAt, rejectionOf, START, setup } from './helpers.ts'

// Test files are ES modules, hence strict mode: writes to frozen objects throw.

describe("MemoryStore values: 'frozen-copy' (default)", () => {
  it('returns a deep-frozen value: mutating it throws instead of changing it for others', async () => {
    const { store } = setup()
    await store.set('k', entryAt(START, { user: { name: 'Ada', roles: ['admin'] }, list: [{ n: 1 }] }))
    const got = (await store.get<{ user: { name: string; roles: string[] }; list: { n: number }[] }>('k'))!
    expect(() => {
      got.value.user.name = 'Eve'
    }).toThrow(TypeError)
    expect(() => got.value.user.roles.push('root')).toThrow(TypeError)
    expect(() => {
      got.value.list[0]!.n = 2
    }).toThrow(TypeError)
    expect(() => {
      delete (got.value as { list?: unknown }).list
    }).toThrow(TypeError)
    expect(store.peek('k')?.value).toEqual({ user: { name: 'Ada', roles: ['admin'] }, list: [{ n: 1 }] })
  })

  it('freezes the entry record too, so nobody can extend its life', async () => {
    const { store } = setup()
    await store.set('k', entryAt(START, 1, { tags: ['t'] }))
    const got = store.peek<number>('k')!
    expect(() => {
      ;(got as { staleUntil: number }).staleUntil = Number.MAX_SAFE_INTEGER
    }).toThrow(TypeError)
    expect(() => (got.tags as string[]).push('u')).toThrow(TypeError)
  })

  it("never freezes or changes the caller's object, and later changes to it are not seen", async () => {
    const { store } = setup()
    const original = { name: 'Ada', nested: { roles: ['admin'] }, when: new Date('2024-01-01T00:00:00.000Z') }
    const tags = ['t']
    await store.set('k', entryAt(START, original, { tags }))
    expect(Object.isFrozen(original)).toBe(false)
    expect(Object.isFrozen(original.nested)).toBe(false)
    expect(Object.isFrozen(tags)).toBe(false)
    original.name = 'Eve'
    original.nested.roles.push('root')
    original.when.setUTCFullYear(1999)
    tags.push('u')
    expect(store.peek('k')?.value).toEqual({
      name: 'Ada',
      nested: { roles: ['admin'] },
      when: new Date('2024-01-01T00:00:00.000Z'),
    })
    expect(store.peek('k')?.tags).toEqual(['t'])
  })

  it('round-trips Dates as Date instances whose setters throw', async () => {
    const { store } = setup()
    const when = new Date('2024-05-06T07:08:09.010Z')
    await store.set('k', entryAt(START, { when, list: [when] }))
    const got = store.peek<{ when: Date; list: Date[] }>('k')!.value
    expect(got.when).toBeInstanceOf(Date)
    expect(got.when).not.toBe(when)
    expect(got.when.getTime()).toBe(when.getTime())
    expect(got.when.toISOString()).toBe('2024-05-06T07:08:09.010Z')
    expect(got.list[0]).toBeInstanceOf(Date)
    expect(() => got.when.setTime(0)).toThrow(TypeError)
    expect(() => got.list[0]!.setUTCHours(1)).toThrow(TypeError)
    expect(got.when.getTime()).toBe(when.getTime())
    // A copy made by the reader is an ordinary Date again.
    const copy = new Date(got.when)
    copy.setTime(0)
    expect(copy.getTime()).toBe(0)
  })

  it('gives a value the shape Redis would give back (JSON: undefined properties dropped)', async () => {
    const { store } = setup()
    await store.set('k', entryAt(START, { a: 1, b: undefined }))
    expect(Object.keys(store.peek<object>('k')!.value)).toEqual(['a'])
  })

  it('returns the same stored object on every read, with its tier', async () => {
    const { store } = setup()
    await store.set('k', { ...entryAt(START, { n: 1 }), tier: 'redis' })
    const first = store.peek('k')
    expect(first).toBe(store.peek('k'))
    expect(first).toBe(await store.get('k'))
    expect((await store.getMany(['k']))[0]).toBe(first)
    expect(first?.tier).toBe('memory')
  })

  it('refuses an unserializable value naming the key, before writing anything', async () => {
    const { store } = setup()
    await store.set('k', entryAt(START, 'previous'))
    const error = await rejectionOf(store.set('k', entryAt(START, { f: () => 1 })))
    expect(CacheError.is(error, CacheErrorCode.SERIALIZATION)).toBe(true)
    expect((error as CacheError).key).toBe('k')
    expect((error as Error).message).toMatch(/set\("k"\).*property "f" is a function/)
    expect(store.peek('k')?.value).toBe('previous')
  })

  it('setMany writes nothing when any value is refused', async () => {
    const { store } = setup()
    await store.set('a', entryAt(START, 'previous'))
    const error = await rejectionOf(
      store.setMany<unknown>([
        ['a', entryAt(START, 'new')],
        ['b', entryAt(START, 10n)],
      ]),
    )
    expect(CacheError.is(error, CacheErrorCode.SERIALIZATION)).toBe(true)
    expect(store.peek('a')?.value).toBe('previous')
    expect(store.peek('b')).toBeUndefined()
  })

  it.each([
    ['a missing entry', undefined, /entry must be an object/],
    [
      'a NaN staleUntil',
      { value: 1, createdAt: 0, expiresAt: 1, staleUntil: Number.NaN },
      /entry.staleUntil/,
    ],
    ['a string expiresAt', { value: 1, createdAt: 0, expiresAt: '1', staleUntil: 2 }, /entry.expiresAt/],
    [
      'staleUntil before expiresAt',
      { value: 1, createdAt: 0, expiresAt: 5, staleUntil: 4 },
      /before expiresAt/,
    ],
    [
      'tags that are not strings',
      { value: 1, createdAt: 0, expiresAt: 5, staleUntil: 5, tags: [1] },
      /entry.tags/,
    ],
  ])('refuses %s with a clear error and keeps the previous entry', async (_label, bad, message) => {
    const { store } = setup()
    await store.set('k', entryAt(START, 'previous'))
    // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
    const error = await rejectionOf(store.set('k', bad as any))
    expect(CacheError.is(error, CacheErrorCode.INVALID_OPTION)).toBe(true)
    expect((error as Error).message).toMatch(message)
    expect(store.peek('k')?.value).toBe('previous')
  })
})

describe("MemoryStore values: 'reference'", () => {
  it('returns the very object stored: changes to it are seen by every reader', async () => {
    const { store } = setup({ values: 'reference' })
    const original = { count: 1 }
    await store.set('k', entryAt(START, original))
    const got = store.peek<{ count: number }>('k')!
    expect(got.value).toBe(original)
    expect(Object.isFrozen(original)).toBe(false)
    got.value.count = 2
    expect(store.peek<{ count: number }>('k')?.value.count).toBe(2)
    // The record around the value is still frozen.
    expect(Object.isFrozen(got)).toBe(true)
  })

  it('stores values JSON would refuse (nothing is serialized) but not undefined', async () => {
    const { store } = setup({ values: 'reference' })
    const map = new Map([['a', 1]])
    await store.set('map', entryAt(START, map))
    expect(store.peek('map')?.value).toBe(map)
    const error = await rejectionOf(store.set('map', entryAt(START, undefined)))
    expect(CacheError.is(error, CacheErrorCode.SERIALIZATION)).toBe(true)
    expect(store.peek('map')?.value).toBe(map)
  })

  it('counts bytes with sizeOf and bounds them by maxBytes', async () => {
    const { store } = setup({
      values: 'reference',
      maxBytes: 100,
      sizeOf: (value) => (value as { bytes: number }).bytes,
    })
    await store.set('a', entryAt(START, { bytes: 60 }))
    await store.set('b', entryAt(START, { bytes: 30.5 }))
    expect((await store.stats())[0]?.bytes).toBe(91)
    await store.set('c', entryAt(START, { bytes: 40 }))
    expect(store.peek('a')).toBeUndefined()
    expect((await store.stats())[0]?.bytes).toBe(71)
    const tooLarge = await rejectionOf(store.set('d', entryAt(START, { bytes: 101 })))
    expect(CacheError.is(tooLarge, CacheErrorCode.VALUE_TOO_LARGE)).toBe(true)
    const badSize = await rejectionOf(store.set('d', entryAt(START, { bytes: Number.NaN })))
    expect(CacheError.is(badSize, CacheErrorCode.INVALID_OPTION)).toBe(true)
    expect((badSize as CacheError).option).toBe('sizeOf')
    expect(store.peek('d')).toBeUndefined()
  })

  it('reports 0 bytes without sizeOf', async () => {
    const { store } = setup({ values: 'reference' })
    await store.set('a', entryAt(START, { big: 'x'.repeat(1_000) }))
    expect((await store.stats())[0]?.bytes).toBe(0)
  })
})
