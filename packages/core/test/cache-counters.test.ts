import { describe, expect, it } from 'vitest'
import { CacheCounters } from '../src/cache-counters.ts'
import { CacheEvents } from '../src/events.ts'

describe('CacheCounters', () => {
  it('counts hits per tier, and snapshots a hit rate from 0 to 1', () => {
    const counters = new CacheCounters(new CacheEvents(), 'store')
    const entry = { value: 1, createdAt: 0, expiresAt: 1, staleUntil: 1 }
    counters.hit('a', { ...entry, tier: 'memory' }, false)
    counters.hit('b', entry, true)
    counters.hit('c', { ...entry, tier: 'memory' }, false)
    counters.miss('d')
    expect(counters.snapshot([])).toMatchObject({
      hits: 3,
      staleHits: 1,
      misses: 1,
      hitRate: 0.75,
      hitsByTier: { memory: 2, store: 1 },
    })
  })
})
