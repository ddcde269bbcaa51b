import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Cache, CacheError, MAX_PATTERN_WILDCARDS, validatePattern } from '../src/index.ts'
import { compileGlob, type GlobMatchCounter, globMatcher } from '../src/internal.ts'
import { MapStore } from './fixtures/map-store.ts'

/** The reference: the textbook dynamic program over (pattern prefix, key prefix), obviously right and O(p × k). */
function referenceMatch(pattern: string, key: string): boolean {
  let row = new Array<boolean>(key.length + 1).fill(false)
  row[0] = true
  for (let p = 0; p < pattern.length; p++) {
    const next = new Array<boolean>(key.length + 1).fill(false)
    const c = pattern[p]
    if (c === '*') {
      next[0] = row[0]!
      for (let k = 1; k <= key.length; k++) next[k] = row[k]! || next[k - 1]!
    } else {
      for (let k = 1; k <= key.length; k++) next[k] = row[k - 1]! && (c === '?' || c === key[k - 1])
    }
    row = next
  }
  return row[key.length]!
}

/** Patterns the issue measured: a backtracking RegExp took ~150 ms and over 20 s on one key. */
const HOSTILE = ['*?*?*?*?*?*?*?*?Z', '*a*a*a*a*a*a*a*a*b']

/** Words a pattern's automaton needs: one bit per non-`*` character, plus one. */
const wordsOf = (pattern: string) => Math.ceil((pattern.replaceAll('*', '').length + 1) / 32)

// A small alphabet makes matches (and near misses, the expensive case for a backtracking matcher) common.
const smallKey = fc.string({ unit: fc.constantFrom('a', 'b', ':'), maxLength: 40 })
const smallPattern = fc.string({ unit: fc.constantFrom('a', 'b', ':', '*', '?'), maxLength: 24 })

/**
 * A pattern and a key made from it (each `*` replaced by a random run, each `?` by one character),
 * then perhaps one character changed: mostly matches and near misses.
 */
function nearly(patterns: fc.Arbitrary<string>): fc.Arbitrary<readonly [string, string]> {
  return patterns.chain((pattern) =>
    fc
      .tuple(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 6 }), {
          minLength: pattern.length,
          maxLength: pattern.length,
        }),
        fc.nat(),
        fc.boolean(),
      )
      .map(([fills, at, change]) => {
        let key = ''
        for (let i = 0; i < pattern.length; i++) {
          const c = pattern[i]!
          key += c === '*' ? fills[i]! : c === '?' ? (fills[i]![0] ?? 'a') : c
        }
        if (change && key.length > 0) {
          const i = at % key.length
          key = `${key.slice(0, i)}${key[i] === 'a' ? 'b' : 'a'}${key.slice(i + 1)}`
        }
        return [pattern, key] as const
      }),
  )
}

describe('compileGlob', () => {
  it('agrees with the reference on random keys and patterns (small alphabet)', () => {
    fc.assert(
      fc.property(smallPattern, fc.array(smallKey, { maxLength: 8 }), (pattern, keys) => {
        const match = compileGlob(pattern)
        for (const key of keys) expect(match(key)).toBe(referenceMatch(pattern, key))
      }),
      { numRuns: 3000 },
    )
  })

  it('agrees with the reference on keys built to match, or nearly, a random pattern', () => {
    fc.assert(
      fc.property(nearly(smallPattern), ([pattern, key]) => {
        expect(compileGlob(pattern)(key)).toBe(referenceMatch(pattern, key))
      }),
      { numRuns: 3000 },
    )
  })

  it('agrees with the reference on long patterns (several 32-bit words) and any UTF-16 text', () => {
    const longPattern = fc.string({
      unit: fc.constantFrom('a', 'b', '*', '?'),
      minLength: 30,
      maxLength: 120,
    })
    const longKey = fc.string({ unit: fc.constantFrom('a', 'b'), minLength: 20, maxLength: 160 })
    fc.assert(
      fc.property(longPattern, fc.array(longKey, { maxLength: 4 }), (pattern, keys) => {
        const match = compileGlob(pattern)
        for (const key of keys) expect(match(key)).toBe(referenceMatch(pattern, key))
      }),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(nearly(longPattern), ([pattern, key]) => {
        expect(compileGlob(pattern)(key)).toBe(referenceMatch(pattern, key))
      }),
      { numRuns: 1500 },
    )
    // Outside the key alphabet too (deletePattern does not validate): `?` takes any one UTF-16 unit.
    const anyText = fc.string({ unit: 'binary', maxLength: 12 })
    const anyPattern = fc
      .array(fc.oneof(fc.constantFrom('*', '?'), fc.string({ unit: 'binary', maxLength: 2 })), {
        maxLength: 8,
      })
      .map((parts) => parts.join(''))
    fc.assert(
      fc.property(anyPattern, anyText, (pattern, key) => {
        expect(compileGlob(pattern)(key)).toBe(referenceMatch(pattern, key))
        expect(compileGlob(pattern)(pattern.replace(/[*?]/g, 'x'))).toBe(
          referenceMatch(pattern, pattern.replace(/[*?]/g, 'x')),
        )
      }),
      { numRuns: 2000 },
    )
  })

  it('does at most key length × words steps, whatever the pattern (hostile ones and random ones)', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `${'a'.repeat(240)}:${String(i).padStart(15, '0')}`)
    const patterns = [
      ...HOSTILE,
      `*${'a'.repeat(200)}b*`,
      `*a*a*a*a*a*a*a*a*${'a'.repeat(100)}b`,
      `${'?'.repeat(16)}${'a'.repeat(230)}`,
    ]
    for (const pattern of patterns) {
      const counter: GlobMatchCounter = { steps: 0 }
      const match = compileGlob(pattern)
      for (const key of keys) match(key, counter)
      expect(counter.steps, pattern).toBeLessThanOrEqual(keys.length * 256 * wordsOf(pattern))
    }
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'b', '*', '?'), maxLength: 256 }),
        fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 256 }),
        (pattern, key) => {
          const counter: GlobMatchCounter = { steps: 0 }
          compileGlob(pattern)(key, counter)
          expect(counter.steps).toBeLessThanOrEqual(key.length * wordsOf(pattern))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('globMatcher compares plain patterns by equality', () => {
    expect(globMatcher('thermal:rack:1')('thermal:rack:1')).toBe(true)
    expect(globMatcher('thermal:rack:1')('thermal:rack:12')).toBe(false)
    expect(globMatcher('a.b*')('a.bc')).toBe(true)
    expect(globMatcher('a.b*')('axbc')).toBe(false)
  })
})

describe('validatePattern: at most MAX_PATTERN_WILDCARDS wildcards', () => {
  it(`accepts ${MAX_PATTERN_WILDCARDS} wildcards and refuses more, naming the pattern and the limit`, () => {
    expect(MAX_PATTERN_WILDCARDS).toBe(16)
    expect(() => validatePattern('*?*?*?*?*?*?*?*?Z')).not.toThrow()
    expect(() => validatePattern('*a*a*a*a*a*a*a*a*b')).not.toThrow()
    const tooMany = '*a'.repeat(17)
    try {
      validatePattern(tooMany)
      expect.unreachable()
    } catch (error) {
      expect(CacheError.is(error, 'E_INVALID_PATTERN')).toBe(true)
      expect((error as CacheError).key).toBe(tooMany)
      expect((error as Error).message).toBe(
        `invalid cache pattern "${tooMany}": 17 wildcards (* and ?), the limit is 16; name more of the key instead`,
      )
    }
    expect(() => validatePattern('?'.repeat(17))).toThrow(/17 wildcards/)
  })

  it('refuses them in invalidate() before the store is called', async () => {
    const store = new MapStore()
    const cache = new Cache({ store })
    await expect(cache.invalidate('*?'.repeat(9))).rejects.toMatchObject({ code: 'E_INVALID_PATTERN' })
    expect(store.calls).toBe(0)
  })
})

describe('invalidate() with hostile patterns over 2,000 long keys', () => {
  it('removes exactly what the reference matches', async () => {
    const store = new MapStore()
    const cache = new Cache({ store, defaultTtl: '1h' })
    const keys = Array.from(
      { length: 2000 },
      (_, i) =>
        `${'a'.repeat(200)}:${i % 7 === 0 ? 'b' : 'c'}:${String(i).padStart(40, 'a')}${i % 5 === 0 ? 'Z' : ''}`,
    )
    for (const pattern of [...HOSTILE, `*a*a*a*a*a*a*a*a*${'a'.repeat(60)}Z`]) {
      for (const key of keys) await cache.set(key, 1)
      const expected = keys.filter((key) => referenceMatch(pattern, key)).length
      expect(await cache.invalidate(pattern), pattern).toBe(expected)
      expect(store.data.size).toBe(keys.length - expected)
    }
  })
})
