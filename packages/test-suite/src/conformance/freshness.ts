import { describe, expect, it, vi } from 'vitest'
import { MINUTE, type SuiteContext } from './suite-context.ts'

/** Conformance, freshness: grace is served, nothing is served at or past staleUntil. */
export function describeFreshness(suite: SuiteContext): void {
  const { open, now, entry, needs, advance } = suite
  describe('freshness', () => {
    it('returns an entry within grace (past expiresAt, before staleUntil)', async () => {
      const store = await open()
      const at = now()
      await store.set('grace:1', {
        value: 'old',
        createdAt: at - 2 * MINUTE,
        expiresAt: at - MINUTE,
        staleUntil: at + MINUTE,
      })
      const got = await store.get('grace:1')
      expect(got?.value).toBe('old')
      expect(got?.expiresAt).toBe(at - MINUTE)
    })

    it('does not store an entry already past staleUntil, and drops the previous one', async () => {
      const store = await open()
      await store.set('dead:1', entry('live'))
      const at = now()
      await store.set('dead:1', {
        value: 'dead',
        createdAt: at - 2 * MINUTE,
        expiresAt: at - MINUTE,
        staleUntil: at - 1,
      })
      expect(await store.get('dead:1')).toBeUndefined()
      await store.set('dead:2', {
        value: 'dead',
        createdAt: at - 2 * MINUTE,
        expiresAt: at - MINUTE,
        staleUntil: at - 1,
      })
      expect(await store.get('dead:2')).toBeUndefined()
    })

    it('serves through grace and forgets the entry at staleUntil (injected clock)', async (context) => {
      needs(context, 'injectableClock', true, 'the real-time variant below covers it')
      const store = await open()
      const written = entry('v', { ttl: 1_000, grace: 4_000 })
      await store.set('ttl:1', written)
      advance(1_000)
      expect((await store.get('ttl:1'))?.value).toBe('v')
      advance(3_999)
      expect((await store.get('ttl:1'))?.value).toBe('v')
      if (store.peek) expect(store.peek('ttl:1')?.value).toBe('v')
      advance(1)
      expect(await store.get('ttl:1')).toBeUndefined()
      expect(store.peek?.('ttl:1')).toBeUndefined()
      if (store.getMany) expect(await store.getMany(['ttl:1'])).toEqual([undefined])
    })

    it('does not store an entry whose staleUntil is exactly now (injected clock)', async (context) => {
      needs(context, 'injectableClock', true, 'exact instants need a clock the suite controls')
      const store = await open()
      const at = now()
      await store.set('edge:1', { value: 'v', createdAt: at - 10, expiresAt: at, staleUntil: at })
      expect(await store.get('edge:1')).toBeUndefined()
    })

    it('forgets an entry once staleUntil passes (real time)', async (context) => {
      needs(context, 'injectableClock', false, 'the injected-clock variant above covers it without waiting')
      const store = await open()
      const staleUntil = Date.now() + 400
      await store.set('ttl:1', {
        value: 'v',
        createdAt: Date.now(),
        expiresAt: staleUntil - 200,
        staleUntil,
      })
      const early = await store.get('ttl:1')
      // Only meaningful if the read surely happened before staleUntil, even on a loaded machine.
      if (Date.now() < staleUntil - 100) expect(early?.value).toBe('v')
      await vi.waitFor(async () => expect(await store.get('ttl:1')).toBeUndefined(), {
        timeout: 5_000,
        interval: 50,
      })
    })
  })
}
