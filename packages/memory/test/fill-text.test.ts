import { CacheError, CacheErrorCode } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import { entryAt, START, setup, thrownBy } from './helpers.ts'

describe("MemoryStore fillText ('frozen-copy')", () => {
  it('keeps the text and serves it parsed and deep-frozen from the first read on, the same object each time', () => {
    const { store } = setup()
    const text = '{"user":{"roles":["admin"]},"n":1}'
    store.fillText('k', entryAt(START, undefined, { tags: ['users'] }), text)
    const first = store.peek<{ user: { roles: string[] }; n: number }>('k')!
    expect(first.value).toEqual({ user: { roles: ['admin'] }, n: 1 })
    expect(first).toMatchObject({
      createdAt: START,
      expiresAt: START + 60_000,
      tags: ['users'],
      tier: 'memory',
    })
    expect(Object.isFrozen(first.value.user.roles)).toBe(true)
    expect(() => first.value.user.roles.push('root')).toThrow(TypeError)
    expect(store.peek('k')).toBe(first)
  })

  it('ignores entry.value: the text is the value', async () => {
    const { store } = setup()
    store.fillText('k', entryAt(START, 'not this'), '"this"')
    expect(await store.get('k')).toMatchObject({ value: 'this' })
  })

  it('counts the UTF-8 length of the text for stats and refuses one over maxBytes before writing', async () => {
    const { store } = setup({ maxBytes: 100 })
    store.fillText('k', entryAt(START, undefined), '"é"') // 4 bytes
    expect((await store.stats())[0]?.bytes).toBe(4)
    const error = thrownBy(() => store.fillText('k', entryAt(START, undefined), `"${'x'.repeat(200)}"`))
    expect(CacheError.is(error, CacheErrorCode.VALUE_TOO_LARGE)).toBe(true)
    expect(store.peek('k')?.value).toBe('é')
  })

  it('a text that does not parse, or parses to nothing L1 holds, is a miss at its first read and is removed', async () => {
    const { store } = setup()
    store.fillText('bad', entryAt(START, undefined), '{"unterminated":')
    store.fillText('deep', entryAt(START, undefined), `${'['.repeat(5_000)}${']'.repeat(5_000)}`)
    expect(store.peek('bad')).toBeUndefined()
    expect(await store.get('deep')).toBeUndefined()
    expect(store.size).toBe(0)
    expect((await store.stats())[0]).toMatchObject({ entries: 0, bytes: 0 })
  })

  it('is read through getMany, tags and patterns like any entry', async () => {
    const { store } = setup()
    store.fillText('a', entryAt(START, undefined, { tags: ['t'] }), '1')
    store.fillText('b', entryAt(START, undefined), '2')
    expect((await store.getMany(['a', 'b', 'c'])).map((e) => e?.value)).toEqual([1, 2, undefined])
    expect(await store.deleteTags(['t'])).toBe(1)
    expect(await store.deletePattern('b*')).toBe(1)
    expect(store.size).toBe(0)
  })

  it('refuses a malformed entry and an entry past staleUntil removes the previous one', () => {
    const { store, clock } = setup()
    const bad = thrownBy(() =>
      store.fillText('k', { ...entryAt(START, undefined), expiresAt: Number.NaN }, '1'),
    )
    expect(CacheError.is(bad, CacheErrorCode.INVALID_OPTION)).toBe(true)
    store.fillText('k', entryAt(START, undefined), '1')
    store.fillText('k', entryAt(clock.now() - 120_000, undefined), '2')
    expect(store.peek('k')).toBeUndefined()
  })
})

describe("MemoryStore fillText ('reference')", () => {
  it('is refused: a reference store has no serializer to read the text with', () => {
    const { store } = setup({ values: 'reference' })
    const error = thrownBy(() => store.fillText('k', entryAt(START, undefined), '1'))
    expect(CacheError.is(error, CacheErrorCode.INVALID_OPTION)).toBe(true)
    expect(String((error as Error).message)).toMatch(/fillText\("k"\): needs a frozen-copy store/)
  })
})
