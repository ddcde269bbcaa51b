import type * as OtelApi from '@opentelemetry/api'
import type { Attributes, BatchObservableCallback, Meter, Observable, Span, Tracer } from '@opentelemetry/api'
import { type Cache, CacheOptionError } from '@strata-cache/core'
import { assertKnownOptions } from '@strata-cache/core/internal'
import { LOADER_BUCKETS, OPERATION_BUCKETS, resolveBuckets } from './buckets.ts'
import { type KeyPatternFn, resolveCacheName, resolveKeyPattern, resolveMaxPatterns } from './labels.ts'
import { otelTracing } from './open-telemetry-tracing.ts'
import { CacheRecorder } from './recorder.ts'
import { REPAIR_OUTCOMES } from './tier-figures.ts'

/** The parts of @opentelemetry/api this package uses, handed in by whichever entry loaded it. */
export type OpenTelemetryApi = Pick<typeof OtelApi, 'metrics' | 'trace' | 'SpanKind' | 'SpanStatusCode'>

/** Options of {@link openTelemetryMetrics}. */
export interface OpenTelemetryMetricsOptions {
  /** Meter for the instruments. @default metrics.getMeter('@strata-cache/metrics') from the global provider */
  meter?: Meter
  /** Tracer for loader and store round-trip spans. @default trace.getTracer('@strata-cache/metrics') */
  tracer?: Tracer
  /**
   * Emit spans: `cache.<operation>` for operations that reached the store and `cache.loader` for
   * loader runs, started before the work and active while it runs (a loader's own spans nest under
   * `cache.loader`). @default true
   */
  spans?: boolean
  /** Also one span per Redis round trip (`redis.get`, `redis.set`...), under the operation's. @default false */
  storeSpans?: boolean
  /** Maps a key to its bounded `key_pattern` attribute. @default keyPatternOf from @strata-cache/core */
  keyPattern?: KeyPatternFn
  /** Value of the `cache` attribute, to tell caches apart on one meter. @default 'default' */
  cacheName?: string
  /** Bucket advice for `cache.operation.duration`, in seconds. @default 0.1 ms to 1 s */
  buckets?: readonly number[]
  /** Bucket advice for `cache.loader.duration`, in seconds. @default 1 ms to 10 s */
  loaderBuckets?: readonly number[]
  /** Distinct key patterns kept before further ones are counted as `other`. @default 1000 */
  maxPatterns?: number
}

const OPTIONS = [
  'meter',
  'tracer',
  'spans',
  'storeSpans',
  'keyPattern',
  'cacheName',
  'buckets',
  'loaderBuckets',
  'maxPatterns',
] as const
const WHERE = 'openTelemetryMetrics'
const SCOPE = '@strata-cache/metrics'

/**
 * What `openTelemetryMetrics` does, given the OpenTelemetry API: the `/open-telemetry` entry hands
 * in the module it imports, the root entry the one it loads on first use.
 */
export function attachOpenTelemetryMetrics(
  api: OpenTelemetryApi,
  cache: Cache,
  options: OpenTelemetryMetricsOptions = {},
): () => void {
  assertKnownOptions(WHERE, options, OPTIONS)
  if (typeof (cache as { on?: unknown } | undefined)?.on !== 'function') {
    throw new CacheOptionError(`${WHERE}: the first argument must be a Cache from @strata-cache/core`)
  }
  if (options.meter !== undefined && typeof options.meter?.createCounter !== 'function') {
    throw new CacheOptionError(`${WHERE}: option "meter" must be an OpenTelemetry Meter`, { option: 'meter' })
  }
  if (options.tracer !== undefined && typeof options.tracer?.startSpan !== 'function') {
    throw new CacheOptionError(`${WHERE}: option "tracer" must be an OpenTelemetry Tracer`, {
      option: 'tracer',
    })
  }
  for (const option of ['spans', 'storeSpans'] as const) {
    if (options[option] !== undefined && typeof options[option] !== 'boolean') {
      throw new CacheOptionError(`${WHERE}: option "${option}" must be a boolean`, { option })
    }
  }
  const name = resolveCacheName(WHERE, options.cacheName)
  const keyPattern = resolveKeyPattern(WHERE, options.keyPattern)
  const maxPatterns = resolveMaxPatterns(WHERE, options.maxPatterns)
  const buckets = resolveBuckets(WHERE, 'buckets', options.buckets, OPERATION_BUCKETS)
  const loaderBuckets = resolveBuckets(WHERE, 'loaderBuckets', options.loaderBuckets, LOADER_BUCKETS)
  const meter = options.meter ?? api.metrics.getMeter(SCOPE)
  const tracer = options.spans === false ? undefined : (options.tracer ?? api.trace.getTracer(SCOPE))

  const operationDuration = meter.createHistogram('cache.operation.duration', {
    description:
      'Duration of cache operations that reached the store, by operation and the tier that answered',
    unit: 's',
    advice: { explicitBucketBoundaries: buckets },
  })
  const loaderDuration = meter.createHistogram('cache.loader.duration', {
    description: 'Duration of getOrSet loader runs, by key pattern and result (success|failure)',
    unit: 's',
    advice: { explicitBucketBoundaries: loaderBuckets },
  })

  // Spans this package started through the Cache's tracing hook (older cores have none: then spans
  // are recorded after the fact from the events, and do not nest).
  const ours = new WeakSet<Span>()
  let tracing = false
  const recorder = new CacheRecorder(cache, {
    cacheName: name,
    keyPattern,
    maxPatterns,
    hooks: {
      onOperation(sample) {
        operationDuration.record(sample.durationMs / 1000, {
          cache: name,
          operation: sample.operation,
          tier: sample.tier,
        })
        if (tracer === undefined) return
        const attributes: Attributes = {
          'cache.name': name,
          'cache.operation': sample.operation,
          'cache.tier': sample.tier,
        }
        // The event comes from inside the operation's own span: complete it rather than add one.
        const active = api.trace.getActiveSpan()
        if (active !== undefined && ours.has(active)) {
          if (sample.result !== undefined) attributes['cache.result'] = sample.result
          active.setAttributes(attributes)
          return
        }
        if (sample.pattern !== undefined) attributes['cache.key_pattern'] = sample.pattern
        if (sample.result !== undefined) attributes['cache.result'] = sample.result
        endedSpan(api, tracer, `cache.${sample.operation}`, sample.durationMs, attributes)
      },
      onLoader(sample) {
        const result = sample.ok ? 'success' : 'failure'
        loaderDuration.record(sample.durationMs / 1000, { cache: name, key_pattern: sample.pattern, result })
        if (tracer === undefined || tracing) return
        endedSpan(
          api,
          tracer,
          'cache.loader',
          sample.durationMs,
          { 'cache.name': name, 'cache.key_pattern': sample.pattern, 'cache.result': result },
          sample.ok ? undefined : sample.error,
        )
      },
    },
  })

  // Counters the recorder keeps and figures the stores own are observed at collection time.
  const hits = meter.createObservableCounter('cache.hits', {
    description: 'Reads that found a value (stale ones included), by tier and key pattern',
  })
  const misses = meter.createObservableCounter('cache.misses', {
    description: 'Reads that found nothing in any tier, by key pattern',
  })
  const stale = meter.createObservableCounter('cache.stale_served', {
    description: 'Values served past their TTL within grace, by tier and key pattern',
  })
  const errors = meter.createObservableCounter('cache.errors', {
    description: 'Errors the cache absorbed or passed on (store failures, corrupt entries, loader failures)',
  })
  const invalidations = meter.createObservableCounter('cache.invalidations', {
    description: 'Invalidation calls (not keys), by kind and source (local|bus)',
  })
  const refreshAhead = meter.createObservableCounter('cache.refresh_ahead', {
    description: 'Background reloads refresh-ahead started on a hit near expiry, by key pattern',
  })
  const keys = meter.createObservableGauge('cache.keys', { description: 'Entries each tier holds' })
  const size = meter.createObservableGauge('cache.size', { description: 'Bytes each tier holds', unit: 'By' })
  const evictions = meter.createObservableCounter('cache.evictions', {
    description: 'Entries each tier evicted to stay within its bounds',
  })
  const available = meter.createObservableGauge('cache.tier.available', {
    description: '1 when the tier answers, 0 when it is down',
  })
  const breaker = meter.createObservableGauge('cache.circuit_breaker.state', {
    description: 'Circuit breaker state per tier: 0 closed, 1 half-open, 2 open',
  })
  const busConnected = meter.createObservableGauge('cache.bus.connected', {
    description: '1 while the invalidation bus is connected, 0 after it dropped',
  })
  const bus = {
    sent: meter.createObservableCounter('cache.bus.messages.sent', {
      description: 'Invalidation messages published',
    }),
    received: meter.createObservableCounter('cache.bus.messages.received', {
      description: 'Invalidation messages received from other pods',
    }),
    dropped: meter.createObservableCounter('cache.bus.messages.dropped', {
      description: 'Invalidation messages dropped (malformed, or lost while disconnected)',
    }),
    rejected: meter.createObservableCounter('cache.bus.messages.rejected', {
      description: 'Invalidation messages refused for a missing or wrong signature (a bus with a secret)',
    }),
    gaps: meter.createObservableCounter('cache.bus.gaps', {
      description: 'Sequence gaps detected on the bus',
    }),
    reconnects: meter.createObservableCounter('cache.bus.reconnects', { description: 'Bus reconnections' }),
  }
  const repairsPending = meter.createObservableGauge('cache.l2.repairs.pending', {
    description: 'Removals L2 could not apply yet, kept for replay when it answers again',
  })
  const repairs = meter.createObservableCounter('cache.l2.repairs', {
    description: 'L2 repairs by outcome: queued, replayed (applied after recovery), collapsed (one clear)',
  })
  const observables: Observable[] = [
    repairsPending,
    repairs,
    hits,
    misses,
    stale,
    errors,
    invalidations,
    refreshAhead,
    keys,
    size,
    evictions,
    available,
    breaker,
    busConnected,
    ...Object.values(bus),
  ]

  const callback: BatchObservableCallback = async (result) => {
    for (const cell of recorder.reads) {
      const attributes = { cache: name, tier: cell.tier, key_pattern: cell.pattern }
      if (cell.hits > 0) result.observe(hits, cell.hits, attributes)
      if (cell.misses > 0) result.observe(misses, cell.misses, attributes)
      if (cell.stale > 0) result.observe(stale, cell.stale, attributes)
    }
    for (const { labels, value } of recorder.errors.values()) {
      result.observe(errors, value, { cache: name, operation: labels[0]!, error_type: labels[1]! })
    }
    for (const { labels, value } of recorder.invalidations.values()) {
      result.observe(invalidations, value, { cache: name, kind: labels[0]!, source: labels[1]! })
    }
    for (const { labels, value } of recorder.refreshes.values()) {
      result.observe(refreshAhead, value, { cache: name, key_pattern: labels[0]! })
    }
    if (recorder.busConnected !== undefined)
      result.observe(busConnected, recorder.busConnected, { cache: name })
    const figures = await recorder.figures()
    const breakers = new Map(recorder.breakers)
    for (const t of figures) {
      const attributes = { cache: name, tier: t.tier }
      if (t.entries !== undefined) result.observe(keys, t.entries, attributes)
      if (t.bytes !== undefined) result.observe(size, t.bytes, attributes)
      if (t.evictions !== undefined) result.observe(evictions, t.evictions, attributes)
      result.observe(available, t.available ? 1 : 0, attributes)
      if (t.breaker !== undefined) breakers.set(t.tier, t.breaker)
      if (t.repairs?.pending !== undefined) result.observe(repairsPending, t.repairs.pending, attributes)
      for (const outcome of REPAIR_OUTCOMES) {
        const value = t.repairs?.[outcome]
        if (value !== undefined) result.observe(repairs, value, { ...attributes, outcome })
      }
      if (t.bus !== undefined) {
        for (const field of ['sent', 'received', 'dropped', 'rejected', 'gaps', 'reconnects'] as const) {
          const value = t.bus[field]
          if (value !== undefined) result.observe(bus[field], value, { cache: name })
        }
      }
    }
    for (const [tier, value] of breakers) result.observe(breaker, value, { cache: name, tier })
  }
  meter.addBatchObservableCallback(callback, observables)

  const untrace =
    tracer !== undefined && typeof cache.trace === 'function'
      ? cache.trace(
          otelTracing({
            api,
            tracer,
            cacheName: name,
            patternOf: (key) => recorder.patternOf(key),
            storeSpans: options.storeSpans === true,
            ours,
          }),
        )
      : undefined
  tracing = untrace !== undefined

  let detached = false
  return () => {
    if (detached) return
    detached = true
    untrace?.()
    recorder.detach()
    meter.removeBatchObservableCallback(callback, observables)
  }
}

/** Records a span after the fact: the events report a duration when the work is done. */
function endedSpan(
  api: OpenTelemetryApi,
  tracer: Tracer,
  spanName: string,
  durationMs: number,
  attributes: Attributes,
  error?: unknown,
): void {
  const end = performance.timeOrigin + performance.now()
  const span = tracer.startSpan(spanName, {
    kind: api.SpanKind.INTERNAL,
    startTime: end - durationMs,
    attributes,
  })
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error))
    span.setStatus({
      code: api.SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    })
  }
  span.end(end)
}
