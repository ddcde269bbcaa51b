import { Cache } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { LRUCache } from 'lru-cache'
import { type BenchSuite, measure } from '../harness.ts'

// Issue 2's hot path: Cache.get and getOrSet on an L1 hit against raw lru-cache get, same run.
const KEYS = 1_000
const value = {
  id: 1,
  name: 'rack-1',
  units: Array.from({ length: 20 }, (_, i) => ({ u: i, watts: 100 + i })),
}

export const suite: BenchSuite = {
  name: 'core-hot-path',
  async run() {
    const keys = Array.from({ length: KEYS }, (_, i) => `thermal:rack:${i}:a1b2c3d4`)
    const lru = new LRUCache<string, object>({ max: 10_000 })
    const store = new MemoryStore({ maxEntries: 10_000 })
    const cache = new Cache({ store, defaultTtl: '1h' })
    for (const key of keys) {
      lru.set(key, value)
      await cache.set(key, value)
    }
    const loader = () => value
    let i = 0
    const next = () => {
      i = (i + 1) % KEYS
      return keys[i]!
    }
    const rows = await measure('core-hot-path', [
      { name: 'lru-cache get (raw)', fn: () => lru.get(next()) },
      {
        // The floor for any promise-returning API: the same raw get, awaited.
        name: 'lru-cache get (raw), await',
        fn: async () => {
          await lru.get(next())
        },
      },
      { name: 'MemoryStore.peek', fn: () => store.peek(next()), baseline: 'lru-cache get (raw)' },
      { name: 'Cache.get (L1 hit)', fn: () => cache.get(next()), baseline: 'lru-cache get (raw)' },
      {
        name: 'Cache.getOrSet (L1 hit)',
        fn: () => cache.getOrSet(next(), loader),
        baseline: 'lru-cache get (raw)',
      },
      {
        name: 'Cache.get (L1 hit), await',
        fn: async () => {
          await cache.get(next())
        },
        baseline: 'lru-cache get (raw), await',
      },
    ])
    await cache.close()
    return rows
  },
}
