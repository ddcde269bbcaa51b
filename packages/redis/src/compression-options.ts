import { CacheOptionError } from '@strata-cache/core'
import type { EntryCompression } from './entry-codec.ts'

/** Compression of values on their way to Redis (L2 only: memory tiers hold values as they are). */
export interface CompressionOptions {
  /** Values whose serialized form is at least this many bytes are compressed. @default 1024 */
  threshold?: number
  /** zlib level, 1 (fastest) to 9 (smallest). @default 1 */
  level?: number
}

const FIELDS = new Set(['threshold', 'level'])

/**
 * The `compression` option resolved: undefined when off. Throws a CacheOptionError for bad input.
 * `true` means the defaults (deflate level 1 above 1 KiB, measured in the README).
 */
export function resolveCompression(
  value: boolean | CompressionOptions | undefined,
): EntryCompression | undefined {
  if (value === undefined || value === false) return undefined
  const options = value === true ? {} : value
  const bad = (what: string) =>
    new CacheOptionError(`RedisStore: option "compression" ${what}`, { option: 'compression' })
  if (options === null || typeof options !== 'object')
    throw bad(`must be a boolean or { threshold?, level? }`)
  for (const field of Object.keys(options))
    if (!FIELDS.has(field)) throw bad(`has an unknown field "${field}"`)
  const thresholdBytes = options.threshold ?? 1024
  if (!Number.isSafeInteger(thresholdBytes) || thresholdBytes < 0)
    throw bad(`threshold must be a whole number of bytes >= 0, got ${String(options.threshold)}`)
  const level = options.level ?? 1
  if (!Number.isInteger(level) || level < 1 || level > 9)
    throw bad(`level must be an integer from 1 to 9, got ${String(options.level)}`)
  return { thresholdBytes, level }
}
