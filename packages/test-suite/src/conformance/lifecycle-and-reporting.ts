import { CacheError, CacheErrorCode } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import { rejection, type SuiteContext } from './suite-context.ts'

/** Conformance, lifecycle and reporting: close and E_CLOSED, stats(), health(), peek. */
export function describeLifecycleAndReporting(suite: SuiteContext): void {
  const { open, entry, needs } = suite
  describe('lifecycle and reporting', () => {
    it('operations after close reject with E_CLOSED; close again resolves', async (context) => {
      needs(context, 'rejectsAfterClose', true, 'the store documents what operations do after close')
      const store = await open()
      await store.set('x:1', entry('v'))
      await store.close()
      const operations: [string, () => Promise<unknown>][] = [
        ['get', () => store.get('x:1')],
        ['set', () => store.set('x:1', entry('w'))],
        ['delete', () => store.delete('x:1')],
        ['deletePattern', () => store.deletePattern('*')],
        ['deleteTags', () => store.deleteTags(['t'])],
        ['clear', () => store.clear()],
      ]
      if (store.getMany) operations.push(['getMany', () => store.getMany!(['x:1'])])
      if (store.setMany) operations.push(['setMany', () => store.setMany!([['x:1', entry('w')]])])
      for (const [name, run] of operations) {
        const error = await rejection(run)
        expect(CacheError.is(error, CacheErrorCode.CLOSED), `${name} after close: got ${String(error)}`).toBe(
          true,
        )
      }
      await expect(store.close()).resolves.toBeUndefined()
    })

    it('close resolves, also when called twice', async () => {
      const store = await open()
      await store.set('x:1', entry('v'))
      await store.close()
      await expect(store.close()).resolves.toBeUndefined()
    })

    it('stats() names each tier and reports non-negative figures', async (context) => {
      const store = await open()
      if (!store.stats) return context.skip('store has no stats (optional in CacheStore)')
      await store.set('s:1', entry('v'))
      await store.get('s:1')
      await store.get('s:missing')
      const rows = await store.stats()
      expect(rows.length).toBeGreaterThan(0)
      for (const row of rows) {
        expect(typeof row.tier).toBe('string')
        expect(row.tier).not.toBe('')
        expect(typeof row.available).toBe('boolean')
        for (const figure of ['entries', 'bytes', 'evictions', 'hits', 'misses', 'errors'] as const) {
          const n = row[figure]
          if (n !== undefined) expect(Number.isFinite(n) && n >= 0, `${row.tier}.${figure} = ${n}`).toBe(true)
        }
      }
    })

    it('health() names each tier and says up for a fresh store', async (context) => {
      const store = await open()
      if (!store.health) return context.skip('store has no health (optional in CacheStore)')
      const checks = await store.health()
      expect(checks.length).toBeGreaterThan(0)
      for (const check of checks) {
        expect(typeof check.tier).toBe('string')
        expect(check.tier).not.toBe('')
        if (check.optional !== true) expect(check.status, `${check.tier}: ${check.message ?? ''}`).toBe('up')
      }
    })

    it('peek agrees with get', async (context) => {
      const store = await open()
      if (!store.peek) return context.skip('store has no peek (optional, in-process tiers only)')
      await store.set('p:1', entry({ n: 1 }))
      expect(store.peek('p:1')?.value).toEqual({ n: 1 })
      expect(store.peek('p:1')?.value).toEqual((await store.get('p:1'))?.value)
      expect(store.peek('p:missing')).toBeUndefined()
    })
  })
}
