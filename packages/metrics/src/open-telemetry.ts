/**
 * `@strata-cache/metrics/open-telemetry`: the OpenTelemetry exporter alone, for an app that
 * installed @opentelemetry/api and not prom-client.
 * @packageDocumentation
 */
import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import type { Cache } from '@strata-cache/core'
import { attachOpenTelemetryMetrics, type OpenTelemetryMetricsOptions } from './open-telemetry-metrics.ts'

export type { OpenTelemetryMetricsOptions } from './open-telemetry-metrics.ts'

/**
 * Reports the same figures as `prometheusMetrics` through the OpenTelemetry API, plus spans for
 * loader runs and operations that reached the store. Without a registered SDK every instrument is
 * the API's no-op. Returns the function that detaches it.
 */
export function openTelemetryMetrics(cache: Cache, options?: OpenTelemetryMetricsOptions): () => void {
  return attachOpenTelemetryMetrics({ metrics, trace, SpanKind, SpanStatusCode }, cache, options)
}
