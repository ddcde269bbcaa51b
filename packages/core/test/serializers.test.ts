import { describe, expect, it } from 'vitest'
import {
  CacheError,
  jsonSerializer,
  MsgpackSerializer,
  type Serializer,
  StructuredSerializer,
  structuredSerializer,
} from '../src/index.ts'

const rich = () => ({
  at: new Date('2024-01-02T03:04:05.678Z'),
  tags: new Set(['a', 'b']),
  byRack: new Map<unknown, unknown>([
    ['r1', { watts: 100 }],
    [2, new Set([1n])],
  ]),
  big: 2n ** 70n,
  bytes: new Uint8Array([0, 1, 254, 255]),
  buffer: Buffer.from('héllo'),
  floats: new Float64Array([1.5, -2]),
  missing: undefined,
  list: [1, undefined, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
  nested: { deep: [{ when: new Date(0) }] },
})

function roundTrip(serializer: Serializer, value: unknown): unknown {
  return serializer.deserialize(serializer.serialize(value))
}

describe('StructuredSerializer', () => {
  it('round-trips what JSON cannot carry', () => {
    const value = rich()
    const back = roundTrip(structuredSerializer, value) as ReturnType<typeof rich>
    expect(back).toEqual(value)
    expect(back.at).toBeInstanceOf(Date)
    expect(back.byRack).toBeInstanceOf(Map)
    expect(back.tags).toBeInstanceOf(Set)
    expect(typeof back.big).toBe('bigint')
    expect(back.bytes).toBeInstanceOf(Uint8Array)
    expect(Buffer.isBuffer(back.buffer)).toBe(true)
    expect(back.floats).toBeInstanceOf(Float64Array)
    expect('missing' in back).toBe(true)
    expect(back.list).toHaveLength(5)
    expect(Object.is(roundTrip(structuredSerializer, -0), -0)).toBe(true)
    expect(Number.isNaN((roundTrip(structuredSerializer, new Date(Number.NaN)) as Date).getTime())).toBe(true)
  })

  it('is text (readable in redis-cli), and JSON values read back as JSON reads them', () => {
    const text = structuredSerializer.serialize({ a: 1, b: ['x'] })
    expect(typeof text).toBe('string')
    expect(text).toBe('{"a":1,"b":["x"]}')
  })

  it('keeps objects that own its marker key, and a "__proto__" key, as plain data', () => {
    const tricky = JSON.parse('{"$s":"d","v":"2020-01-01T00:00:00.000Z","__proto__":{"polluted":true}}')
    const back = roundTrip(structuredSerializer, tricky) as Record<string, unknown>
    expect(back).toEqual(tricky)
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses what it cannot round-trip, naming the property', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    const cases: [unknown, RegExp][] = [
      [undefined, /undefined/],
      [{ f: () => 1 }, /"f" is a function/],
      [{ s: Symbol('x') }, /"s" is a symbol/],
      [cycle, /"self" is a cycle/],
      [{ r: /x/ }, /"r" is a RegExp/],
      [{ m: new Map([['k', () => 1]]) }, /is a function/],
    ]
    for (const [value, message] of cases) {
      expect(() => structuredSerializer.serialize(value)).toThrow(message)
      try {
        structuredSerializer.serialize(value)
      } catch (error) {
        expect(CacheError.is(error, 'E_SERIALIZATION')).toBe(true)
      }
    }
    expect(() => structuredSerializer.deserialize('{"$s":"nope"}')).toThrow(/unknown tag/)
    expect(() => structuredSerializer.deserialize('{not json')).toThrow(CacheError)
  })

  it('is a class with a stable name', () => {
    expect(new StructuredSerializer().name).toBe('structured')
    expect(jsonSerializer.name).toBe('json')
  })
})

describe('MsgpackSerializer', () => {
  const msgpack = new MsgpackSerializer()

  it('produces bytes and round-trips Date, Map, Set, BigInt (64-bit), typed arrays, undefined, NaN, ±Infinity', () => {
    const { big: _, ...value } = rich()
    const withBig = { ...value, big: 2n ** 60n }
    const bytes = msgpack.serialize(withBig)
    expect(bytes).toBeInstanceOf(Uint8Array)
    expect(msgpack.binary).toBe(true)
    const back = msgpack.deserialize(bytes) as typeof withBig
    expect(back).toEqual(withBig)
    expect(back.byRack).toBeInstanceOf(Map)
    expect(back.tags).toBeInstanceOf(Set)
    expect(back.at).toBeInstanceOf(Date)
    expect('missing' in back).toBe(true)
  })

  it('refuses functions and symbols instead of dropping them', () => {
    expect(() => msgpack.serialize({ a: { f: () => 1 } })).toThrow(/"a.f" is a function/)
    expect(() => msgpack.serialize(undefined)).toThrow(CacheError)
    expect(() => msgpack.deserialize(new Uint8Array([0x92, 0x01]))).toThrow(CacheError)
  })
})
