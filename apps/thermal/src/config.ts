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
    port: integer(env, 'PORT', 3001, 0, 65_535),
    host: text(env, 'HOST') ?? '127.0.0.1',
    redisUrl: redisUrl(env),
    databasePath: text(env, 'DATABASE_PATH') ?? './data/thermal.db',
    adminToken: text(env, 'CACHE_ADMIN_TOKEN'),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    thermalTtlMs: duration(env, 'THERMAL_TTL', '5m'),
    optimizationTtlMs: duration(env, 'OPTIMIZATION_TTL', '10m'),
    searchTtlMs: duration(env, 'SEARCH_TTL', '1h'),
    graceMs: duration(env, 'CACHE_GRACE', '10m'),
    softTimeoutMs: duration(env, 'CACHE_SOFT_TIMEOUT', '250ms'),
    optimizationEvaluations: integer(env, 'OPTIMIZATION_EVALUATIONS', 150, 1, 10_000),
    seedSampleRacks: boolean(env, 'SEED_SAMPLE_RACKS', false),
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

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = text(env, name)?.toLowerCase()
  if (value === undefined) return fallback
  if (['1', 'true', 'yes'].includes(value)) return true
  if (['0', 'false', 'no'].includes(value)) return false
  throw new ConfigError(name, `${name}=${JSON.stringify(value)} must be true or false`)
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
