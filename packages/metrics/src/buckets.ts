import { CacheOptionError } from '@strata-cache/core'

/** Operation latency buckets in seconds: 0.1 ms to 1 s, as DESIGN.md fixes. */
export const OPERATION_BUCKETS: readonly number[] = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
])

/** Loader latency buckets in seconds: loaders call databases and services, so 1 ms to 10 s. */
export const LOADER_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
])

/** Checks a bucket list: finite positive numbers in increasing order. */
export function resolveBuckets(
  where: string,
  option: string,
  buckets: unknown,
  fallback: readonly number[],
): number[] {
  if (buckets === undefined) return [...fallback]
  const ok =
    Array.isArray(buckets) &&
    buckets.length > 0 &&
    buckets.every(
      (b, i) => typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > buckets[i - 1]),
    )
  if (!ok) {
    throw new CacheOptionError(
      `${where}: option "${option}" must be a non-empty array of increasing positive numbers (seconds), got ${JSON.stringify(buckets)}`,
      { option },
    )
  }
  return [...(buckets as number[])]
}
