import { CacheError, CacheErrorCode } from './errors.ts'

/** A length of time: a number of milliseconds, or a string such as '250ms', '5s', '5m', '1h', '1d'. */
export type Duration = number | string

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

/**
 * Converts a Duration to milliseconds. Throws a CacheError (E_INVALID_DURATION) that names the
 * value and the option for anything negative, non-finite or unparseable.
 */
export function parseDuration(value: Duration, option = 'duration'): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value
    throw invalid(value, option)
  }
  if (typeof value === 'string') {
    const match = DURATION_PATTERN.exec(value.trim())
    if (match) return Number(match[1]) * (UNIT_MS[match[2]!] as number)
  }
  throw invalid(value, option)
}

/** Like parseDuration, but passes undefined through. */
export function parseOptionalDuration(value: Duration | undefined, option: string): number | undefined {
  return value === undefined ? undefined : parseDuration(value, option)
}

function invalid(value: unknown, option: string): CacheError {
  const shown = typeof value === 'string' ? `"${value}"` : String(value)
  return new CacheError(
    CacheErrorCode.INVALID_DURATION,
    `invalid duration for ${option}: ${shown} (use milliseconds >= 0 or a string like '250ms', '5s', '5m', '1h', '1d')`,
    { option },
  )
}
