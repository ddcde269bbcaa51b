import { parseDuration } from '@strata-cache/core'

/** Everything the service reads from its environment, checked once at start. */
export interface Config {
  port: number
  host: string
  /** Absent: memory-only cache (the embedded default). Present: L1 + Redis L2 + invalidation bus. */
  redisUrl: string | undefined
  databasePath: string
  /** Absent: the cache admin endpoints are disabled (404). */
  adminToken: string | undefined
  logLevel: LogLevel
  /** Cache TTL per timeframe class: 24h; 7d and 1w; 30d, 1m, 90d and 3m; 6m, 1y and all. */
  ttlMs: { day: number; week: number; quarter: number; long: number }
  /** How long past its TTL an aggregate may be served while a fresh one is computed. */
  graceMs: number
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** A bad environment variable; the message names it, its value and what is expected. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message)
    this.name = 'ConfigError'
  }
}

/** Reads and validates the configuration; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: integer(env, 'PORT', 3003, 0, 65_535),
    host: text(env, 'HOST') ?? '127.0.0.1',
    redisUrl: redisUrl(env),
    databasePath: text(env, 'DATABASE_PATH') ?? './data/analytics.db',
    adminToken: text(env, 'CACHE_ADMIN_TOKEN'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    ttlMs: {
      day: duration(env, 'ANALYTICS_TTL_24H', '5m'),
      week: duration(env, 'ANALYTICS_TTL_7D', '30m'),
      quarter: duration(env, 'ANALYTICS_TTL_90D', '1h'),
      long: duration(env, 'ANALYTICS_TTL_1Y', '24h'),
    },
    graceMs: duration(env, 'CACHE_GRACE', '5m'),
  }
}

/** The Redis URL with its password masked, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparseable url)'
  }
}

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const value = text(env, name)
  if (value === undefined) return fallback
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(name, `${name}=${JSON.stringify(value)} must be an integer from ${min} to ${max}`)
  }
  return Number(value)
}

function duration(env: NodeJS.ProcessEnv, name: string, fallback: string): number {
  const value = text(env, name) ?? fallback
  try {
    // Plain digits are milliseconds, as everywhere in Strata.
    return parseDuration(/^\d+$/.test(value) ? Number(value) : value, name)
  } catch {
    throw new ConfigError(
      name,
      `${name}=${JSON.stringify(value)} is not a duration (use milliseconds, or '250ms', '5s', '5m', '1h', '1d')`,
    )
  }
}

function oneOf<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = text(env, name)
  if (value === undefined) return fallback
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `${name}=${JSON.stringify(value)} must be one of ${allowed.join(', ')}`)
  }
  return value as T
}

function redisUrl(env: NodeJS.ProcessEnv): string | undefined {
  const value = text(env, 'REDIS_URL')
  if (value === undefined) return undefined
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    throw new ConfigError(
      'REDIS_URL',
      `REDIS_URL=${JSON.stringify(redactUrl(value))} is not a URL (expected redis://[:password@]host:port[/db])`,
    )
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(
      'REDIS_URL',
      `REDIS_URL must start with redis:// or rediss://, got ${parsed.protocol}//`,
    )
  }
  if (parsed.hostname === '') throw new ConfigError('REDIS_URL', 'REDIS_URL has no host')
  return value
}
