import type { Attributes } from '@opentelemetry/api'
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'

/** A real OTel SDK pair (metrics and traces) exporting to memory, not registered globally. */
export function otelHarness() {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  // The interval never fires within a test: collection happens on forceFlush.
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  })
  const meterProvider = new MeterProvider({ readers: [reader] })
  const spanExporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] })
  return {
    meter: meterProvider.getMeter('test'),
    tracer: tracerProvider.getTracer('test'),
    spans: () => spanExporter.getFinishedSpans(),
    /** Collects once and returns each metric's points as `attr=value,...` → value (histograms: count). */
    async collect(): Promise<Map<string, Map<string, number>>> {
      metricExporter.reset()
      await reader.forceFlush()
      const out = new Map<string, Map<string, number>>()
      for (const resource of metricExporter.getMetrics()) {
        for (const scope of resource.scopeMetrics) {
          for (const metric of scope.metrics) {
            const points = out.get(metric.descriptor.name) ?? new Map<string, number>()
            for (const point of metric.dataPoints) {
              const value = point.value as number | { count: number }
              points.set(attributesKey(point.attributes), typeof value === 'number' ? value : value.count)
            }
            out.set(metric.descriptor.name, points)
          }
        }
      }
      return out
    },
    async shutdown() {
      await meterProvider.shutdown()
      await tracerProvider.shutdown()
    },
  }
}

/** Stable text of an attribute set, keys sorted. */
export function attributesKey(attributes: Attributes): string {
  return Object.keys(attributes)
    .sort()
    .map((k) => `${k}=${String(attributes[k])}`)
    .join(',')
}

/** One metric's points as a plain object, for toEqual. */
export function points(collected: Map<string, Map<string, number>>, name: string): Record<string, number> {
  return Object.fromEntries(collected.get(name) ?? [])
}
