import { describe, expect, it } from 'vitest'
import { CacheError, CacheSerializationError, JsonSerializer } from '../src/index.ts'

const json = new JsonSerializer()

describe('JsonSerializer', () => {
  it('round-trips JSON values and Dates', () => {
    const value = {
      s: 'x',
      n: 1.5,
      b: true,
      z: null,
      a: [1, 'two', { three: 3 }],
      d: new Date('2026-01-02T03:04:05.678Z'),
    }
    const back = json.deserialize(json.serialize(value)) as typeof value
    expect(back).toEqual(value)
    expect(back.d).toBeInstanceOf(Date)
  })

  it('keeps a plain string that mentions the date marker as a string', () => {
    const value = { note: '$strata:date' }
    expect(json.deserialize(json.serialize(value))).toEqual(value)
  })

  it.each([
    [{ fn: () => 1 }, /property "fn" is a function/],
    [{ n: 10n }, /property "n" is a BigInt/],
    [{ m: new Map([[1, 2]]) }, /property "m" is a Map/],
    [{ s: new Set([1]) }, /property "s" is a Set/],
    [{ x: Number.NaN }, /property "x" is NaN/],
    [{ x: Number.POSITIVE_INFINITY }, /Infinity \(not a finite number\)/],
    [[1, undefined], /undefined inside an array/],
    [{ sym: Symbol('s') }, /property "sym" is a symbol/],
    [{ d: new Date('nope') }, /an invalid Date/],
    [() => 1, /the value is a function/],
    [undefined, /cannot cache undefined/],
  ])('refuses %o with a message naming the problem', (value, message) => {
    expect(() => json.serialize(value)).toThrow(message)
    expect(() => json.serialize(value)).toThrow(CacheSerializationError)
  })

  it('refuses a cycle', () => {
    const a: Record<string, unknown> = {}
    a.self = a
    try {
      json.serialize(a)
      expect.unreachable()
    } catch (error) {
      expect(CacheError.is(error, 'E_SERIALIZATION')).toBe(true)
      expect((error as Error).message).toMatch(/contains a cycle/)
    }
  })

  it('reports corrupt input as E_SERIALIZATION', () => {
    expect(() => json.deserialize('{not json')).toThrow(/cannot parse cached JSON/)
  })
})
