/**
 * `@strata-cache/metrics/prometheus`: the Prometheus exporter alone, for an app that installed
 * prom-client and not @opentelemetry/api.
 * @packageDocumentation
 */
import type { Cache } from '@strata-cache/core'
import { Counter, Gauge, Histogram, register } from 'prom-client'
import { attachPrometheusMetrics, type PrometheusMetricsOptions } from './prometheus-metrics.ts'

export type { PrometheusMetricsOptions } from './prometheus-metrics.ts'

/**
 * Registers the cache metrics of DESIGN.md on a prom-client registry and keeps them up to date.
 * Several caches can share a registry (each with its own `cacheName`). Returns the function that
 * detaches this cache; the metrics leave the registry when the last cache detaches.
 */
export function prometheusMetrics(cache: Cache, options?: PrometheusMetricsOptions): () => void {
  return attachPrometheusMetrics({ Counter, Gauge, Histogram, register }, cache, options)
}
