import type { Attributes, Span, Tracer } from '@opentelemetry/api'
import type { CacheTracing, TraceAttributes, TraceSpan } from '@strata-cache/core'
import type { OpenTelemetryApi } from './open-telemetry-metrics.ts'

/** What the tracing hook needs: the API, the tracer, and how to label a key. */
export interface OtelTracingOptions {
  api: OpenTelemetryApi
  tracer: Tracer
  cacheName: string
  /** The bounded label of a key (`thermal:rack:*`): raw keys never reach a span. */
  patternOf: (key: string) => string
  /** Also span each store round trip (`redis.get`...). */
  storeSpans: boolean
  /** Every span this hook started, so the operation events can complete them instead of adding one. */
  ours: WeakSet<Span>
}

/**
 * The Cache's tracing hook over OpenTelemetry: each span starts before its work and is the active
 * context while it runs (`startActiveSpan`), so spans started inside — a loader's own database
 * spans, the store's round trips — nest under it. A rejection records the exception and marks the
 * span failed; `cache.loader` spans carry `cache.result` (`success`/`failure`).
 */
export function otelTracing(options: OtelTracingOptions): CacheTracing {
  const { api, tracer, cacheName, patternOf, ours } = options
  return {
    storeSpans: options.storeSpans,
    span<T>(name: string, given: TraceAttributes, fn: (span: TraceSpan) => Promise<T>): Promise<T> {
      const attributes: Attributes = { 'cache.name': cacheName }
      for (const [attribute, value] of Object.entries(given)) {
        if (attribute === 'cache.key') attributes['cache.key_pattern'] = patternOf(String(value))
        else attributes[attribute] = value
      }
      const loader = name === 'cache.loader'
      return tracer.startActiveSpan(name, { kind: api.SpanKind.INTERNAL, attributes }, async (span) => {
        ours.add(span)
        try {
          const value = await fn(span)
          if (loader) span.setAttribute('cache.result', 'success')
          return value
        } catch (error) {
          if (loader) span.setAttribute('cache.result', 'failure')
          span.recordException(error instanceof Error ? error : String(error))
          span.setStatus({
            code: api.SpanStatusCode.ERROR,
            message: error instanceof Error ? error.message : String(error),
          })
          throw error
        } finally {
          span.end()
        }
      })
    },
  }
}
