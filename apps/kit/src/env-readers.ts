import { parseDuration } from '@strata-cache/core'
import { ConfigError } from './config-error.ts'

/** The variable trimmed; unset or blank: undefined. */
export function envText(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

/** A whole number from `min` to `max`; unset: `fallback`. */
export function envInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = envText(env, name)
  if (value === undefined) return fallback
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(name, `${name}=${JSON.stringify(value)} must be an integer from ${min} to ${max}`)
  }
  return Number(value)
}

/** A duration in milliseconds (`250ms`, `5m`, or plain digits as milliseconds); unset: `fallback`. */
export function envDuration(env: NodeJS.ProcessEnv, name: string, fallback: string): number {
  const value = envText(env, name) ?? fallback
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

/** One of `allowed`; unset: `fallback`. */
export function envOneOf<T extends string>(
  env: NodeJS.ProcessEnv,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = envText(env, name)
  if (value === undefined) return fallback
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `${name}=${JSON.stringify(value)} must be one of ${allowed.join(', ')}`)
  }
  return value as T
}

/** `1`/`true`/`yes` or `0`/`false`/`no`, any case; unset: `fallback`. */
export function envBoolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const value = envText(env, name)?.toLowerCase()
  if (value === undefined) return fallback
  if (['1', 'true', 'yes'].includes(value)) return true
  if (['0', 'false', 'no'].includes(value)) return false
  throw new ConfigError(name, `${name}=${JSON.stringify(value)} must be true or false`)
}
