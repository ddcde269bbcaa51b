import { type BaseConfig, envBoolean, envDuration, envInteger, loadBaseConfig } from '@strata-cache/app-kit'

/** Everything the service reads from its environment, checked once at start. */
export interface Config extends BaseConfig {
  thermalTtlMs: number
  optimizationTtlMs: number
  searchTtlMs: number
  /** How long past its TTL a result may be served while a fresh one is computed. */
  graceMs: number
  /** With a stale result at hand, serve it once the computation has taken this long. */
  softTimeoutMs: number
  /** Candidate layouts the optimizer scores; bounds how long an optimization runs. */
  optimizationEvaluations: number
  /** Seed sample racks when the database has none (the demo). */
  seedSampleRacks: boolean
  /** How often every rack's analysis is warmed (`pause-warming` stops it on every pod); 0: never. */
  warmIntervalMs: number
  /** Cold computations one pod runs at once; past it, 503 with Retry-After. */
  maxConcurrentComputations: number
}

/** Reads and validates the configuration; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    ...loadBaseConfig(env, { port: 3001, databasePath: './data/thermal.db' }),
    thermalTtlMs: envDuration(env, 'THERMAL_TTL', '5m'),
    optimizationTtlMs: envDuration(env, 'OPTIMIZATION_TTL', '10m'),
    searchTtlMs: envDuration(env, 'SEARCH_TTL', '1h'),
    graceMs: envDuration(env, 'CACHE_GRACE', '10m'),
    softTimeoutMs: envDuration(env, 'CACHE_SOFT_TIMEOUT', '250ms'),
    optimizationEvaluations: envInteger(env, 'OPTIMIZATION_EVALUATIONS', 150, 1, 10_000),
    seedSampleRacks: envBoolean(env, 'SEED_SAMPLE_RACKS', false),
    warmIntervalMs: envDuration(env, 'WARM_INTERVAL', '0'),
    maxConcurrentComputations: envInteger(env, 'MAX_CONCURRENT_COMPUTATIONS', 4, 1, 1_000),
  }
}
