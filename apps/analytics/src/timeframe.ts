import { badRequest } from '@strata-cache/app-kit'
import type { Config } from './config.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** How far back a timeframe reaches, its bucket size, and which TTL class it uses. */
interface TimeframeSpec {
  windowMs: number | undefined // undefined: all time
  bucketMs: number
  ttl: keyof Config['ttlMs']
}

/**
 * Timeframes the API accepts. Older data changes less (only new events invalidate it), so longer
 * timeframes are cached longer: 24h → 5 min; 7d, 1w → 30 min; 30d, 1m, 90d, 3m → 1 h; 6m, 1y, all → 24 h.
 */
export const TIMEFRAMES = {
  '24h': { windowMs: DAY, bucketMs: HOUR, ttl: 'day' },
  '7d': { windowMs: 7 * DAY, bucketMs: 6 * HOUR, ttl: 'week' },
  '1w': { windowMs: 7 * DAY, bucketMs: 6 * HOUR, ttl: 'week' },
  '30d': { windowMs: 30 * DAY, bucketMs: DAY, ttl: 'quarter' },
  '1m': { windowMs: 30 * DAY, bucketMs: DAY, ttl: 'quarter' },
  '90d': { windowMs: 90 * DAY, bucketMs: DAY, ttl: 'quarter' },
  '3m': { windowMs: 90 * DAY, bucketMs: DAY, ttl: 'quarter' },
  '6m': { windowMs: 182 * DAY, bucketMs: 7 * DAY, ttl: 'long' },
  '1y': { windowMs: 365 * DAY, bucketMs: 7 * DAY, ttl: 'long' },
  all: { windowMs: undefined, bucketMs: 30 * DAY, ttl: 'long' },
} as const satisfies Readonly<Record<string, TimeframeSpec>>

/** A timeframe the API accepts: `24h`, `7d`, ..., `all`. */
export type TimeframeName = keyof typeof TIMEFRAMES

/**
 * The timeframe's spec (default `7d`); an unknown name is a 400 that lists the accepted ones (the
 * route's schema refuses it first, with the same words).
 */
export function resolveTimeframe(value: string | undefined): TimeframeSpec & { name: TimeframeName } {
  const name = value ?? '7d'
  const spec = Object.hasOwn(TIMEFRAMES, name) ? TIMEFRAMES[name as TimeframeName] : undefined
  if (spec === undefined) {
    throw badRequest(
      `unknown timeframe ${JSON.stringify(name)} (use one of ${Object.keys(TIMEFRAMES).join(', ')})`,
      'E_INVALID_TIMEFRAME',
    )
  }
  return { name: name as TimeframeName, ...spec }
}

/** The cache TTL of a timeframe, from the configuration. */
export function ttlOf(timeframe: string, config: Config): number {
  return config.ttlMs[resolveTimeframe(timeframe).ttl]
}
