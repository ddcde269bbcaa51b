import type { CacheClusterOptions } from '@strata-cache/tiered'
import { envAdminToken } from './admin-token.ts'
import { envBusSecret } from './bus-secret.ts'
import { ConfigError } from './config-error.ts'
import { envDuration, envInteger, envOneOf, envText } from './env-readers.ts'
import { envHttpSettings, type HttpSettings } from './http-settings.ts'
import { LOG_LEVELS, type LogLevel } from './log-level.ts'
import { envRedisCluster } from './redis-cluster.ts'
import { envRedisUrl } from './redis-url.ts'

/** What every app reads from its environment; an app's own Config extends it. */
export interface BaseConfig {
  port: number
  host: string
  /** Absent: memory-only cache (the embedded default). Present: L1 + Redis L2 + invalidation bus. */
  redisUrl: string | undefined
  /** `REDIS_CLUSTER_NODES`: the same tiers on a Redis Cluster instead (not with `REDIS_URL`). */
  redisCluster: CacheClusterOptions | undefined
  databasePath: string
  /** Absent: the cache admin endpoints are disabled (404). At least 32 characters, not a placeholder. */
  adminToken: string | undefined
  /** Signs and checks the invalidation bus's messages (first signs, any verifies); absent: unsigned. */
  busSecret: readonly string[] | undefined
  logLevel: LogLevel
  /** Proxy trust and the rate limits of the data plane and the admin endpoints. */
  http: HttpSettings
  /** Repeats of one cache error within this long are logged as a count, not one line each. */
  errorLogIntervalMs: number
}

/** The app's defaults for the shared variables. */
export interface BaseConfigDefaults {
  port: number
  databasePath: string
}

/**
 * Reads PORT, HOST, REDIS_URL, REDIS_CLUSTER_NODES, DATABASE_PATH, CACHE_ADMIN_TOKEN, CACHE_BUS_SECRET, LOG_LEVEL, then TRUST_PROXY, the
 * rate limits (RATE_LIMIT_MAX, RATE_LIMIT_WINDOW, ADMIN_RATE_LIMIT_MAX, ADMIN_RATE_LIMIT_WINDOW) and
 * ERROR_LOG_INTERVAL, in that order; throws a ConfigError naming the first bad one.
 */
export function loadBaseConfig(env: NodeJS.ProcessEnv, defaults: BaseConfigDefaults): BaseConfig {
  if (envText(env, 'REDIS_URL') !== undefined && envText(env, 'REDIS_CLUSTER_NODES') !== undefined) {
    throw new ConfigError(
      'REDIS_CLUSTER_NODES',
      'set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a cluster), not both',
    )
  }
  return {
    port: envInteger(env, 'PORT', defaults.port, 0, 65_535),
    host: envText(env, 'HOST') ?? '127.0.0.1',
    redisUrl: envRedisUrl(env),
    redisCluster: envRedisCluster(env),
    databasePath: envText(env, 'DATABASE_PATH') ?? defaults.databasePath,
    adminToken: envAdminToken(env),
    busSecret: envBusSecret(env),
    logLevel: envOneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    http: envHttpSettings(env),
    errorLogIntervalMs: envDuration(env, 'ERROR_LOG_INTERVAL', '10s'),
  }
}
