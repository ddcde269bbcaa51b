import { type BaseConfig, envDuration, loadBaseConfig } from '@strata-cache/app-kit'

/** Everything the service reads from its environment, checked once at start. */
export interface Config extends BaseConfig {
  /** Cache TTL per timeframe class: 24h; 7d and 1w; 30d, 1m, 90d and 3m; 6m, 1y and all. */
  ttlMs: { day: number; week: number; quarter: number; long: number }
  /** How long past its TTL an aggregate may be served while a fresh one is computed. */
  graceMs: number
  /** While the invalidation bus is down, L1 entries are served at most this long. */
  degradedL1TtlMs: number
  /** How far back an event's time may lie; older ones are refused (400). */
  eventMaxAgeMs: number
  /** How far ahead of the server's clock an event's time may lie (clients' clock skew). */
  eventMaxAheadMs: number
}

/** Reads and validates the configuration; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    ...loadBaseConfig(env, { port: 3003, databasePath: './data/analytics.db' }),
    ttlMs: {
      day: envDuration(env, 'ANALYTICS_TTL_24H', '5m'),
      week: envDuration(env, 'ANALYTICS_TTL_7D', '30m'),
      quarter: envDuration(env, 'ANALYTICS_TTL_90D', '1h'),
      long: envDuration(env, 'ANALYTICS_TTL_1Y', '24h'),
    },
    graceMs: envDuration(env, 'CACHE_GRACE', '5m'),
    degradedL1TtlMs: envDuration(env, 'CACHE_DEGRADED_L1_TTL', '5s'),
    eventMaxAgeMs: envDuration(env, 'EVENT_MAX_AGE', '366d'),
    eventMaxAheadMs: envDuration(env, 'EVENT_MAX_AHEAD', '5m'),
  }
}
