import { describe, expect, it } from 'vitest'
import { CacheCounters } from '../src/cache-counters.ts'
import type { CacheEntry } from '../src/cache-entry.ts'
import { resolveCacheDefaults } from '../src/cache-options.ts'
import { CacheEvents } from '../src/events.ts'
import { LoaderRuns, resolveLoaderSettings } from '../src/loader-run.ts'
import { MapStore } from './fixtures/map-store.ts'

const defaults = resolveCacheDefaults({ store: new MapStore(), defaultTtl: '1m', hardTimeout: '2s' })

describe('resolveLoaderSettings', () => {
  it('is the Cache defaults themselves when a call gives no options', () => {
    expect(resolveLoaderSettings('k', undefined, defaults)).toBe(defaults)
  })

  it('takes each option from the call, falling back on the default', () => {
    expect(resolveLoaderSettings('k', { ttl: '5s', tags: ['t'], softTimeout: 100 }, defaults)).toEqual({
      ttlMs: 5_000,
      graceMs: 0,
      tags: ['t'],
      softTimeoutMs: 100,
      hardTimeoutMs: 2_000,
      lock: false,
    })
  })

  it('refuses a softTimeout longer than the hardTimeout, from the options or the defaults', () => {
    expect(() => resolveLoaderSettings('k', { softTimeout: '3s' }, defaults)).toThrow(
      /softTimeout \(3000 ms\) is longer than hardTimeout \(2000 ms\)/,
    )
    const bad = resolveCacheDefaults({ store: new MapStore(), softTimeout: '3s', hardTimeout: '1s' })
    expect(() => resolveLoaderSettings('k', undefined, bad)).toThrow(/softTimeout/)
  })
})

describe('LoaderRuns shared reads', () => {
  function setup() {
    const pending = new Map<string, (entry: CacheEntry | undefined) => void>()
    let reads = 0
    const runs = new LoaderRuns({
      store: new MapStore(),
      now: Date.now,
      counters: new CacheCounters(new CacheEvents(), 'map'),
      lockWaitMs: 5_000,
      read: <T>(key: string) => {
        reads++
        return new Promise<CacheEntry<T> | undefined>((resolve) => {
          pending.set(key, resolve as (entry: CacheEntry | undefined) => void)
        })
      },
      write: async () => {},
    })
    return { runs, reads: () => reads }
  }

  it('shares one store read per key until an invalidation touching the key drops it', () => {
    const { runs, reads } = setup()
    const a = runs.read('a')
    expect(runs.read('a')).toBe(a)
    runs.read('b')
    expect(reads()).toBe(2)
    runs.invalidate({ kind: 'key', keys: ['b'] })
    expect(runs.read('a')).toBe(a) // another key's read is kept
    runs.read('b')
    expect(reads()).toBe(3)
    runs.invalidate({ kind: 'pattern', pattern: 'z*' })
    expect(runs.read('a')).not.toBe(a) // a pattern, tags or clear drops every shared read
    expect(reads()).toBe(4)
  })
})
