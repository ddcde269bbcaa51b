import type { Cache } from '@strata-cache/core'
import {
  attachOpenTelemetryMetrics,
  type OpenTelemetryApi,
  type OpenTelemetryMetricsOptions,
} from './open-telemetry-metrics.ts'
import { loadOptionalPeer } from './optional-peer.ts'
import type { PromClientApi } from './prometheus-collectors.ts'
import { attachPrometheusMetrics, type PrometheusMetricsOptions } from './prometheus-metrics.ts'

// The root entry's exporters: each loads its peer dependency when first called, not at import, so
// an app that installed only one of prom-client and @opentelemetry/api can import the root.

/**
 * Registers the cache metrics of DESIGN.md on a prom-client registry and keeps them up to date.
 * Several caches can share a registry (each with its own `cacheName`). Returns the function that
 * detaches this cache; the metrics leave the registry when the last cache detaches. Loads
 * prom-client on first call (a CacheOptionError says how to install it when it is missing).
 */
export function prometheusMetrics(cache: Cache, options?: PrometheusMetricsOptions): () => void {
  return attachPrometheusMetrics(
    loadOptionalPeer<PromClientApi>('prom-client', 'prometheusMetrics'),
    cache,
    options,
  )
}

/**
 * Reports the same figures as {@link prometheusMetrics} through the OpenTelemetry API, plus spans
 * for loader runs and operations that reached the store. Without a registered SDK every instrument
 * is the API's no-op. Returns the function that detaches it. Loads @opentelemetry/api on first call
 * (a CacheOptionError says how to install it when it is missing).
 */
export function openTelemetryMetrics(cache: Cache, options?: OpenTelemetryMetricsOptions): () => void {
  return attachOpenTelemetryMetrics(
    loadOptionalPeer<OpenTelemetryApi>('@opentelemetry/api', 'openTelemetryMetrics'),
    cache,
    options,
  )
}
