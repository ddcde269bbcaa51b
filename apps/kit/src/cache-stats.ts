import type { Cache, CacheStats, TierStats } from '@strata-cache/core'
import { type TierRole, tierRoles } from './tier-roles.ts'

/** The cache figures of the stats endpoints, in the shape DESIGN.md fixes. */
export interface CacheStatsBody {
  timestamp: string
  cache: {
    enabled: boolean
    /** The shared tier (L2, Redis) answers; memory only: the in-process store is open. */
    available: boolean
    /** Errors this pod's cache absorbed or passed on (store failures, loader failures). */
    failure_count: number
    /** Reads this pod answered from the cache (any tier), and those that went to the loader. */
    keyspace_hits: number
    keyspace_misses: number
    /** Percentage, 0 to 100, two decimals. */
    hit_rate: number
    /** Redis's used_memory_human; memory only: the L1's bytes in the same format. */
    used_memory: string
    used_memory_bytes: number
    /** Clients connected to Redis (every pod's pool and bus); memory only: 0. */
    connected_clients: number
  }
}

/**
 * The stats body from `figures` (e.g. what {@link CacheFigures.stats} returns, Redis's part memoized);
 * without them, from `cache.stats()`.
 */
export async function cacheStatsBody(cache: Cache, figures?: CacheStats): Promise<CacheStatsBody> {
  const stats = figures ?? (await cache.stats())
  const roleOf = tierRoles(cache)
  const l1 = stats.tiers.find((t) => roleOf(t) === 'l1')
  const l2 = stats.tiers.find((t) => roleOf(t) === 'l2')
  const primary = l2 ?? l1
  const details = (l2?.details ?? {}) as Record<string, unknown>
  const usedBytes = l2 !== undefined ? numberOr(details.usedMemoryBytes, 0) : (l1?.bytes ?? 0)
  return {
    timestamp: new Date().toISOString(),
    cache: {
      enabled: true,
      available: primary?.available ?? false,
      failure_count: stats.errors,
      keyspace_hits: stats.hits,
      keyspace_misses: stats.misses,
      hit_rate: Math.round(stats.hitRate * 10_000) / 100,
      used_memory:
        typeof details.usedMemoryHuman === 'string' ? details.usedMemoryHuman : humanBytes(usedBytes),
      used_memory_bytes: usedBytes,
      connected_clients: l2 === undefined ? 0 : numberOr(details.connectedClients, 0),
    },
  }
}

/** Rows of the tiers as reported, each with its role, for a detailed health or stats answer. */
export function tierSummary(
  cache: Cache,
  tiers: readonly TierStats[],
): { tier: string; role: TierRole; available: boolean; entries?: number; bytes?: number }[] {
  const roleOf = tierRoles(cache)
  return tiers.map((t) => ({
    tier: t.tier,
    role: roleOf(t),
    available: t.available,
    entries: t.entries,
    bytes: t.bytes,
  }))
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback
}

/** Redis's human format: 1.50M. */
function humanBytes(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(2)}${units[unit]}`
}
