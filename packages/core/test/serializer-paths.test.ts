// JsonSerializer takes a fast path (plain JSON.stringify) for values json-walk calls plain, and the
// guarded path (a replacer) for the rest. Both must write and refuse exactly what the serializer
// wrote and refused when everything went through the replacer: that implementation is kept below,
// verbatim, as the oracle.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CacheError, CacheSerializationError, JsonSerializer } from '../src/index.ts'
import { isPlainJson, MAX_PLAIN_DEPTH } from '../src/json-walk.ts'

const DATE_MARKER = '$strata:date'

/** JsonSerializer.serialize before the fast path. */
function oracleSerialize(value: unknown): string {
  if (value === undefined) {
    throw new CacheSerializationError('cannot cache undefined: it reads back as a miss (cache null instead)')
  }
  let text: string | undefined
  try {
    text = JSON.stringify(value, oracleGuard)
  } catch (error) {
    if (error instanceof CacheSerializationError) throw error
    const reason = /circular/i.test(String(error)) ? 'it contains a cycle' : String((error as Error).message)
    throw new CacheSerializationError(`cannot serialize value as JSON: ${reason}`, { cause: error })
  }
  if (text === undefined) throw new CacheSerializationError(`cannot serialize a ${typeof value} as JSON`)
  return text
}

function oracleGuard(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key]
  if (original instanceof Date) {
    if (Number.isNaN(original.getTime())) throw refuse(key, 'an invalid Date')
    return { [DATE_MARKER]: original.toISOString() }
  }
  switch (typeof value) {
    case 'function':
      throw refuse(key, 'a function')
    case 'symbol':
      throw refuse(key, 'a symbol')
    case 'bigint':
      throw refuse(key, 'a BigInt (convert it to a string)')
    case 'undefined':
      if (Array.isArray(this)) throw refuse(key, 'undefined inside an array')
      return value
    case 'number':
      if (!Number.isFinite(value)) throw refuse(key, `${value} (not a finite number)`)
      return value
    case 'object':
      if (value instanceof Map) throw refuse(key, 'a Map (convert it with Object.fromEntries)')
      if (value instanceof Set) throw refuse(key, 'a Set (convert it to an array)')
      return value
    default:
      return value
  }
}

function refuse(key: string, what: string): CacheSerializationError {
  const where = key === '' ? 'the value' : `property "${key}"`
  return new CacheSerializationError(`cannot serialize value as JSON: ${where} is ${what}`)
}

type Outcome = { text: string } | { error: string; code: string | undefined }

function outcome(run: () => string): Outcome {
  try {
    return { text: run() }
  } catch (error) {
    return {
      error: `${(error as Error).name}: ${(error as Error).message}`,
      code: CacheError.is(error) ? error.code : undefined,
    }
  }
}

const json = new JsonSerializer()

/** Asserts the serializer and the oracle agree on `value` (same text, or same error and message). */
function agrees(value: unknown): Outcome {
  const mine = outcome(() => json.serialize(value))
  expect(mine).toEqual(outcome(() => oracleSerialize(value)))
  return mine
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

/** Leaves the guard treats specially, built fresh for each value. */
const oddLeaf: fc.Arbitrary<unknown> = fc
  .constantFrom<(() => unknown)[]>(
    () => () => 1,
    () => Symbol('s'),
    () => 10n,
    () => Number.NaN,
    () => Number.POSITIVE_INFINITY,
    () => Number.NEGATIVE_INFINITY,
    () => -0,
    () => undefined,
    () => new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
    () => new Date(Number.NaN),
    () => new Map([[1, 2]]),
    () => new Set([1]),
    () => new Point(1, 2),
    () => Object.create(null),
    () => Object.create(Object.create(null)),
    () => ({ toJSON: () => 'replaced' }),
    () => ({ toJSON: () => new Map() }),
    () => ({ toJSON: 'not callable' }),
    () => Object.defineProperty({ a: 1 }, 'toJSON', { value: () => ({ fn: () => 1 }) }),
    () => Object.defineProperty({ a: 1 }, 'hidden', { value: () => 1 }),
    () => ({
      get when() {
        return new Date(0)
      },
    }),
    () => ({
      get fn() {
        return () => 1
      },
    }),
    () => ({
      get n() {
        return 7
      },
    }),
    () => Object.setPrototypeOf([1, 2], Date.prototype),
    // instanceof Date without a toJSON: the guard's Date branch (which throws) must still run
    () => Object.setPrototypeOf([1, 2], Object.create(Date.prototype, { toJSON: { value: undefined } })),
    () => Object.assign([1, 2], { extra: () => 1 }),
    () => Object.assign(new Date(0), { toJSON: () => 'own toJSON' }),
    () => new String('boxed'),
    () => new Number(3),
    () => Buffer.from('ab'),
    () => new Uint8Array([1, 2]),
    () => new Error('e'),
    () => /re/,
    () => ({ [DATE_MARKER]: '2026-01-01T00:00:00.000Z' }),
    () => ({ [Symbol('k')]: 1, a: 2 }),
    () => ({ ['__proto__']: { a: 1 } }),
    () => JSON.parse('{"__proto__": {"a": 1}}'),
  )
  .map((make) => make())

const key = fc.constantFrom('a', 'b', '', '0', '10', 'toJSON', '__proto__', DATE_MARKER, 'x y')

/** Trees of objects and arrays (some sparse, some null-prototype) over plain and odd leaves. */
const tree = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }),
    oddLeaf,
    fc.array(tie('node'), { maxLength: 4 }),
    fc.sparseArray(tie('node'), { maxLength: 4 }),
    fc.dictionary(key, tie('node'), { maxKeys: 4 }),
    fc.dictionary(key, tie('node'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).node

describe('JsonSerializer fast and guarded paths', () => {
  it('write plain JSON values as the replacer-only serializer did, through the fast path', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(isPlainJson(value)).toBe(true)
        expect('text' in agrees(value)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('write or refuse mixed trees exactly as the replacer-only serializer did', () => {
    fc.assert(
      fc.property(tree, (value) => {
        agrees(value)
      }),
      { numRuns: 5000 },
    )
  })

  it('write or refuse anything fast-check builds exactly as the replacer-only serializer did', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withSparseArray: true,
          withNullPrototype: true,
          withBoxedValues: true,
          withObjectString: true,
        }),
        (value) => {
          agrees(value)
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('send only plain data down the fast path', () => {
    expect(isPlainJson({ a: [1, 'x', true, null, { b: undefined }] })).toBe(true)
    expect(isPlainJson(Object.assign(Object.create(null), { a: 1 }))).toBe(true)
    for (const odd of [
      [undefined],
      // biome-ignore lint/suspicious/noSparseArray: a hole is the case under test
      [1, , 3],
      { d: new Date(0) },
      { n: Number.NaN },
      { f: () => 1 },
      { p: new Point(1, 2) },
      { t: { toJSON: () => 1 } },
      Object.defineProperty({}, 'toJSON', { value: () => 1 }),
    ]) {
      expect(isPlainJson(odd)).toBe(false)
    }
  })

  it.each([
    ['a function', () => 1, /is a function/],
    ['a symbol', Symbol('s'), /is a symbol/],
    ['a BigInt', 10n, /is a BigInt/],
    ['NaN', Number.NaN, /is NaN \(not a finite number\)/],
    ['Infinity', Number.POSITIVE_INFINITY, /is Infinity \(not a finite number\)/],
    ['-Infinity', Number.NEGATIVE_INFINITY, /is -Infinity \(not a finite number\)/],
    ['a Map', new Map(), /is a Map/],
    ['a Set', new Set(), /is a Set/],
    ['an invalid Date', new Date(Number.NaN), /is an invalid Date/],
  ])('refuse %s wherever it sits, naming the property', (_what, bad, message) => {
    const places: [unknown, string][] = [
      [{ bad }, 'property "bad"'],
      [{ a: { b: [{ c: 1, bad }] } }, 'property "bad"'],
      [{ a: [1, 'two', bad] }, 'property "2"'],
      [[bad], 'property "0"'],
      [bad, 'the value'],
    ]
    for (const [value, where] of places) {
      const result = agrees(value)
      expect(result).toMatchObject({ code: 'E_SERIALIZATION' })
      expect('error' in result && result.error).toMatch(message)
      expect('error' in result && result.error).toContain(where)
    }
  })

  it('refuse undefined in an array and at the top, and drop it from objects, as before', () => {
    expect(agrees([1, undefined])).toMatchObject({
      error: expect.stringMatching(/"1" is undefined inside an array/),
    })
    expect(agrees({ a: { b: [undefined] } })).toMatchObject({
      error: expect.stringMatching(/"0" is undefined/),
    })
    expect(agrees(undefined)).toMatchObject({ error: expect.stringMatching(/cannot cache undefined/) })
    expect(agrees({ a: undefined, b: 1 })).toEqual({ text: '{"b":1}' })
  })

  it('write Dates under the marker (also from getters and nested), and read them back as Dates', () => {
    const value = {
      at: new Date(0),
      list: [{ when: new Date(1000) }],
      get later() {
        return new Date(2000)
      },
    }
    const result = agrees(value)
    expect(result).toEqual({
      text: '{"at":{"$strata:date":"1970-01-01T00:00:00.000Z"},"list":[{"when":{"$strata:date":"1970-01-01T00:00:01.000Z"}}],"later":{"$strata:date":"1970-01-01T00:00:02.000Z"}}',
    })
    const back = json.deserialize((result as { text: string }).text) as typeof value
    expect(back.at).toBeInstanceOf(Date)
    expect(back.list[0]?.when).toEqual(new Date(1000))
  })

  it('honour toJSON and prototypes that carry one, as before', () => {
    expect(agrees({ a: { toJSON: () => 'x' } })).toEqual({ text: '{"a":"x"}' })
    expect(agrees({ a: Object.defineProperty({}, 'toJSON', { value: () => new Set() }) })).toMatchObject({
      error: expect.stringMatching(/property "a" is a Set/),
    })
    const proto = Object.prototype as { toJSON?: unknown }
    const arrayProto = Array.prototype as { toJSON?: unknown }
    for (const target of [proto, arrayProto]) {
      Object.defineProperty(target, 'toJSON', { value: () => 'polluted', configurable: true })
      try {
        expect(agrees({ a: 1 })).toEqual(outcome(() => oracleSerialize({ a: 1 })))
        expect(agrees([1, 2])).toEqual(outcome(() => oracleSerialize([1, 2])))
        expect(isPlainJson([1, 2])).toBe(false)
      } finally {
        delete target.toJSON
      }
    }
  })

  it('treat an enumerable property added to Object.prototype as before', () => {
    const proto = Object.prototype as { polluted?: unknown }
    proto.polluted = () => 1
    try {
      expect(agrees({ a: 1 })).toEqual({ text: '{"a":1}' })
    } finally {
      delete proto.polluted
    }
  })

  it('write values nested past the walk bound through the guarded path, identically', () => {
    for (const depth of [MAX_PLAIN_DEPTH - 1, MAX_PLAIN_DEPTH, MAX_PLAIN_DEPTH + 1, 2000]) {
      let objects: unknown = { leaf: 1 }
      let arrays: unknown = 1
      for (let i = 0; i < depth; i++) {
        objects = { child: objects }
        arrays = [arrays]
      }
      expect('text' in agrees(objects)).toBe(true)
      expect('text' in agrees(arrays)).toBe(true)
    }
  })

  it('refuse values nested 100,000 deep with a CacheSerializationError, never a RangeError', () => {
    let objects: unknown = { leaf: 1 }
    let arrays: unknown = 1
    for (let i = 0; i < 100_000; i++) {
      objects = { child: objects }
      arrays = [arrays]
    }
    for (const value of [objects, arrays]) {
      expect(() => json.serialize(value)).toThrow(CacheSerializationError)
    }
  })

  it('refuse cycles, near the root or past the walk bound, as before', () => {
    const self: Record<string, unknown> = { a: 1 }
    self.self = self
    const wide: Record<string, unknown> = {}
    for (let i = 0; i < 1000; i++) wide[`k${i}`] = wide
    const list: unknown[] = [1]
    list.push({ back: list })
    let deep: Record<string, unknown> = { leaf: 1 }
    const bottom = deep
    for (let i = 0; i < MAX_PLAIN_DEPTH + 10; i++) deep = { child: deep }
    bottom.up = deep
    for (const value of [self, wide, list, deep]) {
      expect(agrees(value)).toMatchObject({ error: expect.stringMatching(/contains a cycle/) })
    }
  })

  it('share a subtree that is not a cycle, as before', () => {
    const shared = { s: [1, 2] }
    expect(agrees({ a: shared, b: [shared, shared] })).toEqual({
      text: '{"a":{"s":[1,2]},"b":[{"s":[1,2]},{"s":[1,2]}]}',
    })
  })

  it('report a getter that throws as before', () => {
    const value = {
      get broken(): never {
        throw new Error('nope')
      },
    }
    expect(agrees(value)).toMatchObject({
      error: expect.stringMatching(/cannot serialize value as JSON: nope/),
    })
  })
})
