import type { CacheStore } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import type { SuiteContext } from './suite-context.ts'

/** Conformance, pattern deletes: `*` and `?` globs, literal characters, exact counts and survivors. */
export function describePatternDeletes(suite: SuiteContext): void {
  const { open, entry } = suite
  describe('pattern deletes', () => {
    const keys = [
      'user:1',
      'user:2',
      'user:10',
      'user:1:avatar',
      'users:1',
      'user-1',
      'v1.a',
      'v1xa',
      'other:1',
    ]

    async function seeded(): Promise<CacheStore> {
      const store = await open()
      for (const key of keys) await store.set(key, entry(key))
      return store
    }

    async function present(store: CacheStore): Promise<string[]> {
      const found: string[] = []
      for (const key of keys) if ((await store.get(key)) !== undefined) found.push(key)
      return found
    }

    it('* matches any run of characters, including none and colons', async () => {
      const store = await seeded()
      expect(await store.deletePattern('user:*')).toBe(4)
      expect(await present(store)).toEqual(['users:1', 'user-1', 'v1.a', 'v1xa', 'other:1'])
    })

    it('? matches exactly one character', async () => {
      const store = await seeded()
      expect(await store.deletePattern('user:?')).toBe(2)
      expect(await present(store)).toEqual([
        'user:10',
        'user:1:avatar',
        'users:1',
        'user-1',
        'v1.a',
        'v1xa',
        'other:1',
      ])
    })

    it('. and - are literal characters', async () => {
      const store = await seeded()
      expect(await store.deletePattern('v1.*')).toBe(1)
      expect(await store.deletePattern('user-?')).toBe(1)
      expect(await present(store)).toEqual([
        'user:1',
        'user:2',
        'user:10',
        'user:1:avatar',
        'users:1',
        'v1xa',
        'other:1',
      ])
    })

    it('a pattern without wildcards removes only that key', async () => {
      const store = await seeded()
      expect(await store.deletePattern('user:1')).toBe(1)
      expect(await store.deletePattern('nothing:here:*')).toBe(0)
      expect(await present(store)).toEqual(keys.filter((k) => k !== 'user:1'))
    })

    it('* alone removes every entry of this store', async () => {
      const store = await seeded()
      expect(await store.deletePattern('*')).toBe(keys.length)
      expect(await present(store)).toEqual([])
    })
  })
}
