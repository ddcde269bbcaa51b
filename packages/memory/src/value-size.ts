import { CacheError, CacheErrorCode, CacheOptionError } from '@strata-cache/core'

/**
 * Size of a value held by reference, from the `sizeOf` option: 0 without one, else its result
 * rounded up and at least 1 (lru-cache needs a positive integer). Throws on a bad result.
 */
export function referenceSize(
  sizeOf: ((value: unknown, key: string) => number) | undefined,
  label: string,
  key: string,
  value: unknown,
): number {
  if (sizeOf === undefined) return 0
  const size = sizeOf(value, key)
  if (typeof size !== 'number' || !Number.isFinite(size) || size < 0) {
    throw new CacheOptionError(
      `${label}.set("${key}"): sizeOf returned ${String(size)}, expected a finite number of bytes >= 0`,
      { key, option: 'sizeOf' },
    )
  }
  // lru-cache needs a positive integer size.
  return Math.max(1, Math.ceil(size))
}

/** Throws E_VALUE_TOO_LARGE when one value of `size` bytes is over `maxBytes`. */
export function assertFits(maxBytes: number | undefined, label: string, key: string, size: number): void {
  if (maxBytes !== undefined && size > maxBytes) {
    throw new CacheError(
      CacheErrorCode.VALUE_TOO_LARGE,
      `${label}.set("${key}"): value is ${size} bytes, over maxBytes ${maxBytes}; raise maxBytes or cache a smaller value`,
      { key },
    )
  }
}
