import type { Cache } from '@strata-cache/core'

/** What a tier does in the cache: the in-process L1, the shared L2, or the invalidation bus. */
export type TierRole = 'l1' | 'l2' | 'bus'

/** A store made of an L1 and an L2 (the tiered store), as far as roles go. */
interface TwoTierStore {
  l1: { name: string }
  l2: { name: string }
}

function isTwoTier(store: unknown): store is TwoTierStore {
  const s = store as Partial<TwoTierStore> | null
  return typeof s?.l1?.name === 'string' && typeof s.l2?.name === 'string'
}

/**
 * The role of each row of `cache.stats().tiers` or `cache.health().checks`, told by the stores the
 * cache is made of rather than by tier names (a store's name is configurable): behind a two-tier
 * store, its L1's rows are `l1`, its L2's rows are `l2` and any other row (the bus) is `bus`; a
 * single store is the cache's only tier, `l1`.
 */
export function tierRoles(cache: Cache): (row: { tier: string }) => TierRole {
  const store = cache.store
  if (!isTwoTier(store)) return () => 'l1'
  const { l1, l2 } = store
  return (row) => (row.tier === l1.name ? 'l1' : row.tier === l2.name ? 'l2' : 'bus')
}
