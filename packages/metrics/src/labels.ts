import { CacheOptionError, keyPatternOf } from '@strata-cache/core'

/** Turns a cache key into a bounded label value; never returns the raw key when it holds an id. */
export type KeyPatternFn = (key: string) => string

/** Label value used once `maxPatterns` distinct patterns have been seen, so cardinality stays bounded. */
export const OVERFLOW_PATTERN = 'other'

// Error codes and class names are short identifiers; anything else collapses to 'Error'.
const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_.-]{0,47}$/

/** The bounded `error_type` of an error: its stable `code` when it has one, else its class name. */
export function errorTypeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && IDENTIFIER.test(code)) return code
    const name = (error as { name?: unknown }).name
    if (typeof name === 'string' && IDENTIFIER.test(name)) return name
  }
  return 'Error'
}

/** A label value from a store-supplied name (operation, tier): kept when it is a short identifier, else 'other'. */
export function boundedName(value: unknown): string {
  return typeof value === 'string' && IDENTIFIER.test(value) ? value : 'other'
}

/** Checks the shared options of both exporters and returns the key pattern function. */
export function resolveKeyPattern(where: string, keyPattern: unknown): KeyPatternFn {
  if (keyPattern === undefined) return keyPatternOf
  if (typeof keyPattern !== 'function') {
    throw new CacheOptionError(
      `${where}: option "keyPattern" must be a function (key) => pattern, got ${typeof keyPattern}`,
      {
        option: 'keyPattern',
      },
    )
  }
  return keyPattern as KeyPatternFn
}

/** Checks `cacheName`: a non-empty label value of at most 64 characters. */
export function resolveCacheName(where: string, cacheName: unknown): string {
  if (cacheName === undefined) return 'default'
  if (typeof cacheName !== 'string' || cacheName.length === 0 || cacheName.length > 64) {
    throw new CacheOptionError(
      `${where}: option "cacheName" must be a non-empty string of at most 64 characters, got ${JSON.stringify(cacheName)}`,
      { option: 'cacheName' },
    )
  }
  return cacheName
}

/** Checks `maxPatterns`: a positive integer. */
export function resolveMaxPatterns(where: string, maxPatterns: unknown): number {
  if (maxPatterns === undefined) return 1000
  if (typeof maxPatterns !== 'number' || !Number.isInteger(maxPatterns) || maxPatterns < 1) {
    throw new CacheOptionError(
      `${where}: option "maxPatterns" must be a positive integer, got ${String(maxPatterns)}`,
      {
        option: 'maxPatterns',
      },
    )
  }
  return maxPatterns
}
