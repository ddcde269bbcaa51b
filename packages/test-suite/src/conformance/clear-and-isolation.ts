import type { CacheStore } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import type { SuiteContext } from './suite-context.ts'

/** Conformance, clear and isolation: clear, sharing or independence of instances, prefix isolation, restart. */
export function describeClearAndIsolation(suite: SuiteContext): void {
  const { open, entry, needs, prefix } = suite
  describe('clear and isolation', () => {
    it('clear removes every entry of this store', async () => {
      const store = await open()
      await store.set('c:1', entry(1, { tags: ['t'] }))
      await store.set('c:2', entry(2))
      await store.clear()
      expect(await store.get('c:1')).toBeUndefined()
      expect(await store.get('c:2')).toBeUndefined()
      expect(await store.deleteTags(['t'])).toBe(0)
      await store.set('c:3', entry(3))
      expect((await store.get('c:3'))?.value).toBe(3)
    })

    it('two instances with the same prefix see each other’s writes and deletes', async (context) => {
      needs(context, 'sharedAcrossInstances', true, 'instances are independent (see the test below)')
      const a = await open()
      const b = await open()
      await a.set('shared:1', entry('from a'))
      expect((await b.get('shared:1'))?.value).toBe('from a')
      expect(await b.delete('shared:1')).toBe(true)
      expect(await a.get('shared:1')).toBeUndefined()
    })

    it('two instances do not share entries', async (context) => {
      needs(context, 'sharedAcrossInstances', false, 'shared instances are tested above')
      const a = await open()
      const b = await open()
      await a.set('own:1', entry('from a'))
      expect(await b.get('own:1')).toBeUndefined()
      await b.clear()
      expect((await a.get('own:1'))?.value).toBe('from a')
    })

    describe('prefix isolation', () => {
      async function pair(): Promise<[CacheStore, CacheStore]> {
        // app: and apple: guard against prefix matching without its trailing colon.
        const a = await open(`${prefix()}app:`)
        const b = await open(`${prefix()}apple:`)
        for (const store of [a, b]) {
          await store.set('k:1', entry('v', { tags: ['t'] }))
          await store.set('k:2', entry('w'))
        }
        return [a, b]
      }

      async function intact(store: CacheStore): Promise<void> {
        expect((await store.get('k:1'))?.value).toBe('v')
        expect((await store.get('k:2'))?.value).toBe('w')
      }

      it('clear on one prefix leaves the other’s entries', async (context) => {
        needs(context, 'sharedAcrossInstances', true, 'unshared instances cannot touch each other')
        const [a, b] = await pair()
        await a.clear()
        expect(await a.get('k:1')).toBeUndefined()
        await intact(b)
      })

      it('deletePattern("*") on one prefix leaves the other’s entries', async (context) => {
        needs(context, 'sharedAcrossInstances', true, 'unshared instances cannot touch each other')
        const [a, b] = await pair()
        expect(await a.deletePattern('*')).toBe(2)
        await intact(b)
      })

      it('deleteTags on one prefix leaves the other’s entries', async (context) => {
        needs(context, 'sharedAcrossInstances', true, 'unshared instances cannot touch each other')
        const [a, b] = await pair()
        expect(await a.deleteTags(['t'])).toBe(1)
        await intact(b)
      })
    })

    it('a new instance with the same prefix reads what a closed one wrote', async (context) => {
      needs(context, 'survivesRestart', true, 'entries live only as long as the instance')
      const a = await open()
      await a.set('durable:1', entry({ kept: true }))
      await a.close()
      const b = await open()
      expect((await b.get('durable:1'))?.value).toEqual({ kept: true })
    })
  })
}
