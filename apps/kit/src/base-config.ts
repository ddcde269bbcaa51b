import { envInteger, envOneOf, envText } from './env-readers.ts'
import { LOG_LEVELS, type LogLevel } from './log-level.ts'
import { envRedisUrl } from './redis-url.ts'

/** What every app reads from its environment; an app's own Config extends it. */
export interface BaseConfig {
  port: number
  host: string
  /** Absent: memory-only cache (the embedded default). Present: L1 + Redis L2 + invalidation bus. */
  redisUrl: string | undefined
  databasePath: string
  /** Absent: the cache admin endpoints are disabled (404). */
  adminToken: string | undefined
  logLevel: LogLevel
}

/** The app's defaults for the shared variables. */
export interface BaseConfigDefaults {
  port: number
  databasePath: string
}

/**
 * Reads PORT, HOST, REDIS_URL, DATABASE_PATH, CACHE_ADMIN_TOKEN and LOG_LEVEL, in that order;
 * throws a ConfigError naming the first bad one.
 */
export function loadBaseConfig(env: NodeJS.ProcessEnv, defaults: BaseConfigDefaults): BaseConfig {
  return {
    port: envInteger(env, 'PORT', defaults.port, 0, 65_535),
    host: envText(env, 'HOST') ?? '127.0.0.1',
    redisUrl: envRedisUrl(env),
    databasePath: envText(env, 'DATABASE_PATH') ?? defaults.databasePath,
    adminToken: envText(env, 'CACHE_ADMIN_TOKEN'),
    logLevel: envOneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
  }
}
