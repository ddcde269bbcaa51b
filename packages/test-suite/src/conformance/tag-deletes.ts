import { describe, expect, it } from 'vitest'
import type { SuiteContext } from './suite-context.ts'

/** Conformance, tag deletes: any-of semantics, counts, and tags forgotten with the entries that carried them. */
export function describeTagDeletes(suite: SuiteContext): void {
  const { open, entry } = suite
  describe('tag deletes', () => {
    it('removes every entry carrying any of the tags, returns the count, leaves the rest', async () => {
      const store = await open()
      await store.set('a', entry('a', { tags: ['t1'] }))
      await store.set('b', entry('b', { tags: ['t1', 't2'] }))
      await store.set('c', entry('c', { tags: ['t2'] }))
      await store.set('d', entry('d', { tags: ['t3'] }))
      await store.set('e', entry('e'))
      expect(await store.deleteTags(['t1', 't2'])).toBe(3)
      for (const key of ['a', 'b', 'c']) expect(await store.get(key)).toBeUndefined()
      expect((await store.get('d'))?.value).toBe('d')
      expect((await store.get('e'))?.value).toBe('e')
      expect(await store.deleteTags(['t1'])).toBe(0)
      expect(await store.deleteTags(['unknown'])).toBe(0)
      expect(await store.deleteTags([])).toBe(0)
      expect(await store.deleteTags(['t3'])).toBe(1)
    })

    it('forgets tags an entry lost when it was overwritten', async () => {
      const store = await open()
      await store.set('k:1', entry('v1', { tags: ['old'] }))
      await store.set('k:1', entry('v2'))
      await store.set('k:2', entry('v1', { tags: ['old'] }))
      await store.set('k:2', entry('v2', { tags: ['new'] }))
      expect(await store.deleteTags(['old'])).toBe(0)
      expect((await store.get('k:1'))?.value).toBe('v2')
      expect((await store.get('k:2'))?.value).toBe('v2')
      expect(await store.deleteTags(['new'])).toBe(1)
      expect(await store.get('k:2')).toBeUndefined()
    })

    it('forgets tags of entries removed by delete, deletePattern and clear', async () => {
      const store = await open()
      await store.set('k:1', entry('v', { tags: ['t'] }))
      await store.set('k:2', entry('v', { tags: ['t'] }))
      await store.delete('k:1')
      await store.deletePattern('k:2')
      // Written again without the tag: a stale tag membership must not reach them.
      await store.set('k:1', entry('again'))
      await store.set('k:2', entry('again'))
      expect(await store.deleteTags(['t'])).toBe(0)
      expect((await store.get('k:1'))?.value).toBe('again')
      expect((await store.get('k:2'))?.value).toBe('again')
      await store.set('k:3', entry('v', { tags: ['u'] }))
      await store.clear()
      await store.set('k:3', entry('again'))
      expect(await store.deleteTags(['u'])).toBe(0)
      expect((await store.get('k:3'))?.value).toBe('again')
    })
  })
}
