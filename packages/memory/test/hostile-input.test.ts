import { Cache, CacheError } from '@strata-cache/core'
import { compileGlob, type GlobMatchCounter } from '@strata-cache/core/internal'
import { describe, expect, it } from 'vitest'
import { MAX_VALUE_DEPTH } from '../src/deep-freeze.ts'
import { entryAt, START, setup, thrownBy } from './helpers.ts'

/** `levels` arrays nested in each other around 1, as JSON.parse gives them (it is not recursive). */
function nestedArrays(levels: number): unknown {
  return JSON.parse(`${'['.repeat(levels)}1${']'.repeat(levels)}`)
}

/** `levels` objects nested in each other, built in a loop. */
function nestedObjects(levels: number): unknown {
  let value: unknown = 1
  for (let i = 0; i < levels; i++) value = { a: value }
  return value
}

describe('deep values', () => {
  it('fill refuses a value nested 100,000 deep with E_SERIALIZATION (no stack overflow); the previous entry stays', () => {
    const { store } = setup()
    store.fill('k', entryAt(START, 'old'), 5)
    const deep = nestedArrays(100_000)
    const error = thrownBy(() => store.fill('k', entryAt(START, deep), 200_001))
    expect(CacheError.is(error, 'E_SERIALIZATION')).toBe(true)
    expect((error as CacheError).key).toBe('k')
    expect((error as Error).message).toMatch(/nested deeper than 1000 levels/)
    expect(store.peek('k')?.value).toBe('old')
    // Nothing was frozen: the refusal happens before.
    expect(Object.isFrozen(deep)).toBe(false)
  })

  it('set refuses a value nested 100,000 deep (objects or arrays); the previous entry stays', async () => {
    const { store } = setup()
    await store.set('k', entryAt(START, 'old'))
    for (const deep of [nestedObjects(100_000), nestedArrays(100_000)]) {
      await expect(store.set('k', entryAt(START, deep))).rejects.toMatchObject({
        code: 'E_SERIALIZATION',
        key: 'k',
      })
      expect(store.peek('k')?.value).toBe('old')
    }
  })

  it(`holds a value nested ${MAX_VALUE_DEPTH} deep, frozen all the way down, and refuses one level more`, async () => {
    const { store } = setup()
    await store.set('ok', entryAt(START, nestedObjects(MAX_VALUE_DEPTH)))
    let node = store.peek<unknown>('ok')!.value as { a: unknown }
    let levels = 0
    while (typeof node === 'object') {
      expect(Object.isFrozen(node)).toBe(true)
      node = node.a as { a: unknown }
      levels++
    }
    expect(levels).toBe(MAX_VALUE_DEPTH)
    await store.set('k', entryAt(START, 'old'))
    await expect(store.set('k', entryAt(START, nestedObjects(MAX_VALUE_DEPTH + 1)))).rejects.toThrow(
      'MemoryStore "memory".set("k"): the value is nested deeper than 1000 levels (objects and arrays); flatten it',
    )
    expect(store.peek('k')?.value).toBe('old')
    // Dates count as leaves, and still freeze.
    await store.set('d', entryAt(START, { at: new Date(START), list: [[{ b: [] }]] }))
    const held = store.peek<{ at: Date }>('d')!.value
    expect(() => held.at.setFullYear(2000)).toThrow(/frozen/)
  })

  it('through a Cache: set rejects with E_SERIALIZATION and get still returns the previous value', async () => {
    const { store } = setup()
    const cache = new Cache({ store, defaultTtl: '1h', now: () => START })
    await cache.set('deep', 'previous')
    await expect(cache.set('deep', nestedArrays(100_000))).rejects.toMatchObject({ code: 'E_SERIALIZATION' })
    await expect(cache.set('deep', nestedObjects(MAX_VALUE_DEPTH + 1))).rejects.toMatchObject({
      code: 'E_SERIALIZATION',
    })
    expect(await cache.get('deep')).toBe('previous')
  })
})

describe('hostile patterns over 2,000 long keys in L1', () => {
  // The patterns: a backtracking RegExp took ~150 ms and over 20 s on one key.
  const patterns = [
    '*?*?*?*?*?*?*?*?Z',
    '*a*a*a*a*a*a*a*a*b',
    `*a*a*a*a*a*a*a*a*${'a'.repeat(100)}?`,
    `${'?'.repeat(16)}${'a'.repeat(200)}`,
  ]
  const keys = Array.from(
    { length: 2000 },
    (_, i) => `${'a'.repeat(210)}:${String(i).padStart(40, 'a')}${i % 3 === 0 ? 'Z' : 'b'}`,
  )

  it('invalidate() removes what the pattern matches, with bounded matching work per key', async () => {
    const { store } = setup()
    const cache = new Cache({ store, defaultTtl: '1h', now: () => START })
    for (const pattern of patterns) {
      for (const key of keys) await cache.set(key, 1)
      const counter: GlobMatchCounter = { steps: 0 }
      const match = compileGlob(pattern)
      const expected = keys.filter((key) => match(key, counter)).length
      // Linear: at most one word operation per key character per 32 pattern characters.
      const words = Math.ceil((pattern.replaceAll('*', '').length + 1) / 32)
      expect(counter.steps, pattern).toBeLessThanOrEqual(keys.length * 256 * words)
      expect(await cache.invalidate(pattern), pattern).toBe(expected)
      expect(store.size).toBe(keys.length - expected)
    }
  })
})
