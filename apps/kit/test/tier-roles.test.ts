import { Cache, type CacheStore, type TierStats } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import { cacheStatsBody, createAppCache, tierRoles, tierSummary } from '../src/index.ts'

/** A two-tier store whose tiers carry names other than 'memory' and 'redis'; it only reports stats. */
function twoTierStore(rows: TierStats[]): CacheStore & { l1: { name: string }; l2: { name: string } } {
  const unused = () => Promise.reject(new Error('not used by these tests'))
  return {
    name: 'tiered',
    l1: { name: 'local' },
    l2: { name: 'shared' },
    stats: async () => rows,
    get: unused,
    set: unused,
    delete: unused,
    deletePattern: unused,
    deleteTags: unused,
    clear: unused,
    close: async () => {},
  }
}

describe('tierRoles', () => {
  it('tells L1, L2 and bus rows by the store they come from, not by their names', async () => {
    const rows: TierStats[] = [
      { tier: 'local', available: true, entries: 3, bytes: 120 },
      {
        tier: 'shared',
        available: false,
        details: { usedMemoryBytes: 2_097_152, usedMemoryHuman: '2.00M', connectedClients: 7 },
      },
      { tier: 'bus', available: true },
    ]
    const cache = new Cache({ store: twoTierStore(rows) })
    expect(rows.map(tierRoles(cache))).toEqual(['l1', 'l2', 'bus'])
    expect(tierSummary(cache, rows).map((row) => [row.tier, row.role])).toEqual([
      ['local', 'l1'],
      ['shared', 'l2'],
      ['bus', 'bus'],
    ])
    // The stats body reads the L2 row (Redis figures) whatever it is called.
    expect((await cacheStatsBody(cache)).cache).toMatchObject({
      available: false,
      used_memory: '2.00M',
      used_memory_bytes: 2_097_152,
      connected_clients: 7,
    })
  })

  it('takes a single store for the L1', async () => {
    const appCache = createAppCache('kit', undefined, {})
    try {
      const { cache } = appCache
      const { tiers } = await cache.stats()
      expect(tierSummary(cache, tiers)).toMatchObject([{ role: 'l1', available: true }])
      expect((await cacheStatsBody(cache)).cache).toMatchObject({ available: true, connected_clients: 0 })
    } finally {
      await appCache.close()
    }
  })
})
