import type { CacheStore, TierHealth, TierStats } from '@strata-cache/core'
import { tierHealth, tierStats } from '@strata-cache/core/internal'
import type { InvalidationBus } from './invalidation.ts'
import type { L2Repairs } from './l2-repairs.ts'

/**
 * L1's and L2's rows, plus a `bus` row whose details are the bus's counters and `pending`. L2's row
 * carries `details.repairs` (`{ pending, queued, replayed, collapsed }`, see L2Repairs) when given.
 */
export async function tieredStats(
  l1: CacheStore,
  l2: CacheStore,
  bus: InvalidationBus | undefined,
  repairs?: L2Repairs,
): Promise<TierStats[]> {
  const [l1Rows, l2Rows] = await Promise.all([tierStats(l1), tierStats(l2)])
  if (repairs !== undefined && l2Rows[0] !== undefined) {
    const row = l2Rows[0]
    l2Rows[0] = {
      ...row,
      details: { ...row.details, repairs: { pending: repairs.size, ...repairs.counters } },
    }
  }
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
