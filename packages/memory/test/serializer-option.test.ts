import { CacheError, MsgpackSerializer, structuredSerializer } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/index.ts'

const entry = <T>(value: T) => {
  const now = Date.now()
  return { value, createdAt: now, expiresAt: now + 60_000, staleUntil: now + 60_000 }
}

const rich = () => ({
  racks: new Map<string, unknown>([['r1', { watts: 100 }]]),
  seen: new Set([{ id: 1 }]),
  at: new Date(0),
  big: 2n ** 70n,
  bytes: new Uint8Array([1, 2]),
  gap: [1, undefined, Number.NaN],
})

describe('MemoryStore serializer option', () => {
  it('by default (JSON) refuses a Map, as before', async () => {
    const store = new MemoryStore()
    await expect(store.set('k', entry({ m: new Map() }))).rejects.toSatisfy((e) =>
      CacheError.is(e, 'E_SERIALIZATION'),
    )
  })

  it('with a richer serializer holds frozen copies of Map, Set, BigInt, bytes, undefined, NaN', async () => {
    for (const serializer of [structuredSerializer, new MsgpackSerializer()]) {
      const store = new MemoryStore({ serializer })
      expect(store.serializer).toBe(serializer)
      const value = rich()
      await store.set('k', entry(value))
      const got = (await store.get<ReturnType<typeof rich>>('k'))!.value
      expect(got).toEqual(value)
      expect(got).not.toBe(value) // a copy
      expect(got.racks).toBeInstanceOf(Map)
      expect(() => got.racks.set('r2', 1)).toThrow(/frozen/)
      expect(() => got.racks.delete('r1')).toThrow(/frozen/)
      expect(() => got.seen.add({ id: 2 })).toThrow(/frozen/)
      expect(() => got.seen.clear()).toThrow(/frozen/)
      expect(Object.isFrozen(got.racks.get('r1'))).toBe(true)
      expect(Object.isFrozen([...got.seen][0])).toBe(true)
      expect(got.racks.get('r1')).toEqual({ watts: 100 })
      expect(() => {
        ;(got as { big: bigint }).big = 1n
      }).toThrow()
      const stats = (await store.stats())[0]!
      expect(stats.bytes).toBe(
        typeof serializer.serialize(value) === 'string'
          ? Buffer.byteLength(serializer.serialize(value) as string)
          : (serializer.serialize(value) as Uint8Array).byteLength,
      )
    }
  })

  it('refuses a serializer with values held by reference, or one that is not a serializer', () => {
    expect(() => new MemoryStore({ values: 'reference', serializer: structuredSerializer })).toThrow(
      /frozen-copy/,
    )
    expect(() => new MemoryStore({ serializer: {} as never })).toThrow(CacheError)
  })
})
