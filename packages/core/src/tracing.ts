/** Attribute values a span carries. */
export type TraceAttributes = Record<string, string | number | boolean>

/** A span in progress: attributes learnt while its work runs. */
export interface TraceSpan {
  /** Sets (or replaces) one attribute. */
  setAttribute(name: string, value: string | number | boolean): void
}

/**
 * How a Cache and its stores report spans to a tracing system without depending on one. `span`
 * starts a span before the work, runs `fn` with it as the active context (so spans started inside,
 * such as a loader's own database spans, nest under it) and ends it when `fn` settles; a rejection
 * marks it failed. Install one with `Cache.trace()`; `openTelemetryMetrics` from
 * `@strata-cache/metrics` installs one over OpenTelemetry.
 */
export interface CacheTracing {
  /** Runs `fn` inside a new span named `name`, child of the active one. */
  span<T>(name: string, attributes: TraceAttributes, fn: (span: TraceSpan) => Promise<T>): Promise<T>
  /** Also one span per store round trip (e.g. `redis.get`), for stores that offer them. @default false */
  readonly storeSpans?: boolean
}

/**
 * Runs `run` inside a `cache.<operation>` span when tracing is on (`cache.key` is the raw key: an
 * implementation maps it to a bounded pattern before exporting), else as is.
 */
export function traced<T>(
  tracing: CacheTracing | undefined,
  operation: string,
  key: string | undefined,
  run: () => Promise<T>,
): Promise<T> {
  if (tracing === undefined) return run()
  const attributes: TraceAttributes = { 'cache.operation': operation }
  if (typeof key === 'string') attributes['cache.key'] = key
  return tracing.span(`cache.${operation}`, attributes, run)
}
