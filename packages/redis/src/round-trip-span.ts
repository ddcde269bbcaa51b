import type { CacheTracing } from '@strata-cache/core'

/**
 * Runs one call to Redis (one round trip, or a few for chunked batches and scans) inside a
 * `redis.<operation>` span, child of the active one (a `cache.get`, a `cache.loader`...), with the
 * OpenTelemetry database attributes.
 */
export function roundTripSpan<T>(
  tracing: CacheTracing,
  tier: string,
  operation: string,
  run: () => Promise<T>,
): Promise<T> {
  return tracing.span(
    `redis.${operation}`,
    { 'db.system': 'redis', 'db.operation.name': operation, 'cache.tier': tier },
    run,
  )
}
