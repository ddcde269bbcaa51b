// Hostile input to the validators and serializers: whatever arrives, the only thing thrown is a
// CacheError, and nothing hangs (each property runs under the test timeout; the deep cases below
// are the ones a recursive implementation would overflow on).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CacheError,
  isValidKey,
  JsonSerializer,
  MAX_PATTERN_WILDCARDS,
  MsgpackSerializer,
  StructuredSerializer,
  validateKey,
  validatePattern,
  validateTags,
} from '../src/index.ts'
import { compileGlob } from '../src/internal.ts'

/** Runs `run`; passes when it returns or throws a CacheError, fails on anything else thrown. */
function onlyCacheErrors(run: () => unknown): 'ok' | 'refused' {
  try {
    run()
    return 'ok'
  } catch (error) {
    if (!CacheError.is(error)) throw new Error(`threw a non-CacheError: ${String(error)}`, { cause: error })
    return 'refused'
  }
}

/** Strings near the key alphabet (so some pass), and anything at all. */
const keyish = fc.oneof(
  fc.string({
    unit: fc.constantFrom('a', 'Z', '0', ':', '_', '-', '.', '*', '?', ' ', '|', ',', 'é', '\u0000'),
    maxLength: 300,
  }),
  fc.string({ unit: 'binary', maxLength: 300 }),
)
const anything = fc.oneof(keyish, fc.anything())

describe('key, pattern and tag validation', () => {
  it('throws nothing but a CacheKeyError, and isValidKey agrees with validateKey', () => {
    fc.assert(
      fc.property(anything, (input) => {
        const key = onlyCacheErrors(() => validateKey(input as string))
        expect(isValidKey(input)).toBe(key === 'ok')
        onlyCacheErrors(() => validatePattern(input as string))
        onlyCacheErrors(() => validateTags(input as string[]))
        onlyCacheErrors(() => validateTags([input as string]))
      }),
      { numRuns: 5000 },
    )
  })

  it('an accepted pattern has at most MAX_PATTERN_WILDCARDS wildcards and compiles to a matcher', () => {
    fc.assert(
      fc.property(keyish, keyish, (pattern, key) => {
        if (onlyCacheErrors(() => validatePattern(pattern)) === 'refused') return
        expect(pattern.replace(/[^*?]/g, '').length).toBeLessThanOrEqual(MAX_PATTERN_WILDCARDS)
        expect(typeof compileGlob(pattern)(key)).toBe('boolean')
      }),
      { numRuns: 5000 },
    )
  })
})

/** Text a decoder may be handed: JSON-ish fragments, markers, deep brackets, or noise. */
const jsonish = fc.oneof(
  fc.json(),
  fc.string({
    unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '1', 'e', '-', 'n', 'u', 'l', '$'),
    maxLength: 200,
  }),
  fc.jsonValue().map((v) => JSON.stringify({ '$strata:date': v })),
  fc.jsonValue().map((v) => JSON.stringify({ $strata: v, '$strata:date': 'x' })),
  fc.string({ unit: 'binary', maxLength: 200 }),
)

describe('serializers', () => {
  const json = new JsonSerializer()
  const structured = new StructuredSerializer()
  const msgpack = new MsgpackSerializer()

  it('serialize: a value (anything fast-check builds) is encoded or refused with a CacheError', () => {
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
        }),
        (value) => {
          onlyCacheErrors(() => json.serialize(value))
          onlyCacheErrors(() => structured.serialize(value))
          onlyCacheErrors(() => msgpack.serialize(value))
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('deserialize: any text or bytes decode or are refused with a CacheError', () => {
    fc.assert(
      fc.property(jsonish, fc.uint8Array({ maxLength: 200 }), (text, bytes) => {
        onlyCacheErrors(() => json.deserialize(text))
        onlyCacheErrors(() => structured.deserialize(text))
        onlyCacheErrors(() => msgpack.deserialize(bytes))
        onlyCacheErrors(() => msgpack.deserialize(Buffer.from(text)))
      }),
      { numRuns: 3000 },
    )
  })

  it('round-trips what JSON can hold', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(json.deserialize(json.serialize(value))).toEqual(JSON.parse(JSON.stringify(value)))
      }),
      { numRuns: 1000 },
    )
  })

  it('text nested 100,000 deep: read, or refused with a CacheError, never a stack overflow', () => {
    const deep = `${'['.repeat(100_000)}1${']'.repeat(100_000)}`
    const marked = `${'['.repeat(100_000)}{"$strata:date":"2026-01-01T00:00:00.000Z"}${']'.repeat(100_000)}`
    for (const text of [deep, marked]) {
      onlyCacheErrors(() => json.deserialize(text))
      onlyCacheErrors(() => structured.deserialize(text))
    }
    let value: unknown = 1
    for (let i = 0; i < 100_000; i++) value = [value]
    expect(onlyCacheErrors(() => json.serialize(value))).toBe('refused')
    onlyCacheErrors(() => structured.serialize(value))
    onlyCacheErrors(() => msgpack.serialize(value))
  })
})
