import { type Cache, CacheError, validatePattern } from '@strata-cache/core'
import { badRequest } from './http-error.ts'

/** Clears every tier (and, through the bus, every pod's L1); the body of the clear endpoints. */
export async function clearCache(cache: Cache): Promise<{ cleared: true; timestamp: string }> {
  await cache.clear()
  return { cleared: true, timestamp: new Date().toISOString() }
}

/**
 * Deletes the keys matching a glob pattern on every pod; a pattern outside the key alphabet is a
 * 400 `E_INVALID_PATTERN` before anything is touched.
 */
export async function invalidatePattern(
  cache: Cache,
  pattern: string,
): Promise<{ pattern: string; deleted_count: number }> {
  try {
    validatePattern(pattern)
  } catch (error) {
    throw badRequest(CacheError.is(error) ? error.message : String(error), 'E_INVALID_PATTERN')
  }
  return { pattern, deleted_count: await cache.invalidate(pattern) }
}
