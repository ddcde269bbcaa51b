import { type CacheEntry, CacheError, CacheErrorCode } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import { sampleValues, unserializableValues } from '../sample-values.ts'
import { MINUTE, rejection, type SuiteContext } from './suite-context.ts'

/** Conformance, values: round trips, metadata, overwrite, delete, refusal of bad values, isolation from callers. */
export function describeValues(suite: SuiteContext): void {
  const { open, now, entry, needs } = suite
  describe('values', () => {
    it.each(sampleValues)('round-trips %s', async (_label, value) => {
      const store = await open()
      await store.set('value:1', entry(value))
      const got = await store.get('value:1')
      expect(got).toBeDefined()
      expect(got!.value).toEqual(value)
    })

    it('returns undefined for a key never written', async () => {
      const store = await open()
      expect(await store.get('missing:1')).toBeUndefined()
    })

    it('keeps createdAt, expiresAt, staleUntil and tags', async () => {
      const store = await open()
      const at = now()
      const written: CacheEntry<string> = {
        value: 'v',
        createdAt: at - 5_000,
        expiresAt: at + MINUTE,
        staleUntil: at + 2 * MINUTE,
        tags: ['rack:1', 'site:zrh'],
      }
      await store.set('timing:1', written)
      const got = await store.get<string>('timing:1')
      expect(got).toMatchObject({
        createdAt: at - 5_000,
        expiresAt: at + MINUTE,
        staleUntil: at + 2 * MINUTE,
      })
      expect([...(got?.tags ?? [])].sort()).toEqual(['rack:1', 'site:zrh'])
      if (got?.tier !== undefined) expect(typeof got.tier).toBe('string')
    })

    it('returns no tags for an entry written without tags', async () => {
      const store = await open()
      await store.set('untagged:1', entry('v'))
      const got = await store.get('untagged:1')
      expect(got?.tags ?? []).toEqual([])
    })

    it('overwrites a key with the new value and timing', async () => {
      const store = await open()
      await store.set('over:1', entry({ v: 1 }, { ttl: MINUTE }))
      const second = entry({ v: 2 }, { ttl: 2 * MINUTE, grace: MINUTE })
      await store.set('over:1', second)
      const got = await store.get('over:1')
      expect(got?.value).toEqual({ v: 2 })
      expect(got).toMatchObject({ expiresAt: second.expiresAt, staleUntil: second.staleUntil })
    })

    it('delete resolves true for a present key, then false, and the key is gone', async () => {
      const store = await open()
      await store.set('del:1', entry('v'))
      await store.set('del:2', entry('w'))
      expect(await store.delete('del:1')).toBe(true)
      expect(await store.get('del:1')).toBeUndefined()
      expect(await store.delete('del:1')).toBe(false)
      expect(await store.delete('never:1')).toBe(false)
      expect((await store.get('del:2'))?.value).toBe('w')
    })

    it.for(unserializableValues())(
      'refuses %s with E_SERIALIZATION and keeps the previous entry',
      async ([_label, bad], context) => {
        needs(context, 'serializesValues', true, 'the store keeps values as given and documents it')
        const store = await open()
        await store.set('bad:1', entry({ good: true }))
        const error = await rejection(() => store.set('bad:1', entry(bad)))
        expect(CacheError.is(error, CacheErrorCode.SERIALIZATION), `got ${String(error)}`).toBe(true)
        expect((await store.get('bad:1'))?.value).toEqual({ good: true })
      },
    )

    it('isolates stored values from callers: changing a value given or read back changes nothing stored', async (context) => {
      needs(context, 'serializesValues', true, 'the store keeps values as given and documents it')
      const store = await open()
      const given = { name: 'Ada', roles: ['admin'], at: new Date('2024-01-01T00:00:00.000Z') }
      await store.set('iso:1', entry(given))
      given.name = 'Eve'
      given.roles.push('root')
      given.at.setUTCFullYear(1999)
      const read = (await store.get<typeof given>('iso:1'))!.value
      // A store may hand out frozen values (then these writes throw) or fresh copies.
      try {
        read.name = 'Mallory'
        read.roles.push('root')
        read.at.setUTCFullYear(1999)
      } catch (error) {
        expect(error).toBeInstanceOf(TypeError)
      }
      expect((await store.get('iso:1'))?.value).toEqual({
        name: 'Ada',
        roles: ['admin'],
        at: new Date('2024-01-01T00:00:00.000Z'),
      })
    })
  })
}
