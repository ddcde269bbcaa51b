import { describe, expect, it } from 'vitest'
import type { SuiteContext } from './suite-context.ts'

/** Conformance, batches: getMany order, duplicates and misses; setMany; deleteMany. */
export function describeBatches(suite: SuiteContext): void {
  const { open, entry } = suite
  describe('batches', () => {
    it('getMany returns entries in the order of the keys, undefined for missing ones', async (context) => {
      const store = await open()
      if (!store.getMany) return context.skip('store has no getMany (optional in CacheStore)')
      await store.set('m:1', entry(1))
      await store.set('m:3', entry(3))
      const got = await store.getMany<number>(['m:3', 'm:2', 'm:1', 'm:3'])
      expect(got.map((e) => e?.value)).toEqual([3, undefined, 1, 3])
      expect(await store.getMany([])).toEqual([])
    })

    it('setMany writes every entry, readable one by one', async (context) => {
      const store = await open()
      if (!store.setMany) return context.skip('store has no setMany (optional in CacheStore)')
      await store.setMany<unknown>([
        ['s:1', entry({ n: 1 }, { tags: ['batch'] })],
        ['s:2', entry([2])],
      ])
      expect((await store.get('s:1'))?.value).toEqual({ n: 1 })
      expect((await store.get('s:2'))?.value).toEqual([2])
      expect(await store.deleteTags(['batch'])).toBe(1)
    })

    it('deleteMany removes the keys it is given and resolves how many it held', async (context) => {
      const store = await open()
      if (!store.deleteMany) return context.skip('store has no deleteMany (optional in CacheStore)')
      await store.set('d:1', entry(1))
      await store.set('d:2', entry(2))
      await store.set('d:3', entry(3))
      expect(await store.deleteMany(['d:1', 'd:2', 'd:missing'])).toBe(2)
      expect((await store.get('d:1'))?.value).toBeUndefined()
      expect((await store.get('d:3'))?.value).toBe(3)
      expect(await store.deleteMany([])).toBe(0)
    })
  })
}
