import type { TierHealth } from './cache-store.ts'

/** `up`: every tier answers; `degraded`: only optional tiers (an L2 behind an L1, the bus) are down; `down`: otherwise. */
export type HealthStatus = 'up' | 'degraded' | 'down'

/** What `Cache.health()` returns: the overall status and each tier's check. */
export interface HealthReport {
  status: HealthStatus
  checks: TierHealth[]
}

/** The overall status of the tiers' checks. */
export function healthReport(checks: TierHealth[]): HealthReport {
  const down = checks.filter((c) => c.status === 'down')
  const status: HealthStatus =
    down.length === 0 ? 'up' : down.every((c) => c.optional === true) ? 'degraded' : 'down'
  return { status, checks }
}
