import { CacheError, CacheErrorCode } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import { MemoryStore, type MemoryStoreOptions } from '../src/index.ts'

function optionError(options: unknown): CacheError {
  try {
    new MemoryStore(options as MemoryStoreOptions)
  } catch (error) {
    if (CacheError.is(error)) return error
    throw error
  }
  throw new Error('expected the constructor to throw')
}

describe('MemoryStore options', () => {
  it.each([
    ['an unknown option', { maxEntry: 10 }, 'maxEntry', /unknown option "maxEntry"/],
    ['maxEntries of 0', { maxEntries: 0 }, 'maxEntries', /positive integer, got 0/],
    ['a fractional maxEntries', { maxEntries: 1.5 }, 'maxEntries', /got 1\.5/],
    ['maxEntries as a string', { maxEntries: '100' }, 'maxEntries', /got "100"/],
    ['a negative maxBytes', { maxBytes: -1 }, 'maxBytes', /got -1/],
    ['an unknown values mode', { values: 'copy' }, 'values', /'frozen-copy' or 'reference', got "copy"/],
    ['a clock that is not a function', { now: 5 }, 'now', /must be a function/],
    ['a name with a space', { name: 'my store' }, 'name', /got "my store"/],
    ['sizeOf with frozen copies', { sizeOf: () => 1 }, 'sizeOf', /only used with values: 'reference'/],
    [
      'maxBytes by reference without sizeOf',
      { values: 'reference', maxBytes: 10 },
      'maxBytes',
      /needs a sizeOf/,
    ],
  ])('refuses %s with a CacheOptionError naming it', (_label, options, option, message) => {
    const error = optionError(options)
    expect(error.code).toBe(CacheErrorCode.INVALID_OPTION)
    expect(error.option).toBe(option)
    expect(error.message).toMatch(message)
  })

  it('accepts no options at all and names itself memory', async () => {
    const store = new MemoryStore()
    expect(store.name).toBe('memory')
    await store.set('k', {
      value: 1,
      createdAt: 0,
      expiresAt: Date.now() + 60_000,
      staleUntil: Date.now() + 60_000,
    })
    expect(store.peek('k')?.tier).toBe('memory')
  })

  it('uses its name as the tier of entries, stats and health', async () => {
    const store = new MemoryStore({ name: 'l1' })
    await store.set('k', {
      value: 1,
      createdAt: 0,
      expiresAt: Date.now() + 60_000,
      staleUntil: Date.now() + 60_000,
    })
    expect((await store.get('k'))?.tier).toBe('l1')
    expect((await store.stats())[0]?.tier).toBe('l1')
    expect(await store.health()).toEqual([{ tier: 'l1', status: 'up' }])
  })
})
