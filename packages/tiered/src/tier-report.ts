import type { CacheStore, TierHealth, TierStats } from '@strata-cache/core'
import { tierHealth, tierStats } from '@strata-cache/core/internal'
import type { InvalidationBus } from './invalidation.ts'

/** L1's and L2's rows, plus a `bus` row whose details are the bus's counters and `pending`. */
export async function tieredStats(
  l1: CacheStore,
  l2: CacheStore,
  bus: InvalidationBus | undefined,
): Promise<TierStats[]> {
  const [l1Rows, l2Rows] = await Promise.all([tierStats(l1), tierStats(l2)])
  const rows = [...l1Rows, ...l2Rows]
  if (bus !== undefined)
    rows.push({ tier: 'bus', available: bus.isConnected(), details: { ...bus.counters() } })
  return rows
}

/** L1's checks, then L2's and the bus's marked optional: without them the cache is degraded, not down. */
export async function tieredHealth(
  l1: CacheStore,
  l2: CacheStore,
  bus: InvalidationBus | undefined,
): Promise<TierHealth[]> {
  const [l1Checks, l2Checks] = await Promise.all([tierHealth(l1), tierHealth(l2)])
  const checks = [...l1Checks, ...l2Checks.map((check) => ({ ...check, optional: true }))]
  if (bus !== undefined) {
    const up = bus.isConnected()
    checks.push({
      tier: 'bus',
      status: up ? 'up' : 'down',
      optional: true,
      ...(up
        ? {}
        : { message: 'invalidation bus disconnected: L1 entries are served for degradedL1Ttl at most' }),
    })
  }
  return checks
}
