import { assertKnownOptions, type Cache, CacheOptionError } from '@strata-cache/core'
import {
  Counter,
  register as defaultRegistry,
  Gauge,
  Histogram,
  type Metric,
  type Registry,
} from 'prom-client'
import { LOADER_BUCKETS, OPERATION_BUCKETS, resolveBuckets } from './buckets.ts'
import { type KeyPatternFn, resolveCacheName, resolveKeyPattern, resolveMaxPatterns } from './labels.ts'
import { CacheRecorder, type LabelledCount, type ReadCell } from './recorder.ts'
import type { TierFigures } from './tier-figures.ts'

export interface PrometheusMetricsOptions {
  /** The prom-client registry to register on. @default prom-client's global `register` */
  registry?: Registry
  /** Prepended to every metric name, e.g. `myapp_`. @default '' */
  prefix?: string
  /** Maps a key to its bounded `key_pattern` label. @default keyPatternOf from @strata-cache/core */
  keyPattern?: KeyPatternFn
  /** Value of the `cache` label; each cache on one registry needs its own. @default 'default' */
  cacheName?: string
  /** Buckets of `cache_operation_duration_seconds`, in seconds. @default 0.1 ms to 1 s */
  buckets?: readonly number[]
  /** Buckets of `cache_loader_duration_seconds`, in seconds. @default 1 ms to 10 s */
  loaderBuckets?: readonly number[]
  /** Distinct key patterns kept before further ones are counted as `other`. @default 1000 */
  maxPatterns?: number
}

const OPTIONS = [
  'registry',
  'prefix',
  'keyPattern',
  'cacheName',
  'buckets',
  'loaderBuckets',
  'maxPatterns',
] as const
const WHERE = 'prometheusMetrics'
const PREFIX = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/

interface Attachment {
  readonly cache: Cache
  readonly name: string
  readonly recorder: CacheRecorder
  /** Label objects of histogram series this cache created, reused per observation and removed on detach. */
  readonly operationLabels: Map<string, Record<string, string>>
  readonly loaderLabels: Map<string, Record<string, string>>
}

/** The metric objects of one (registry, prefix), shared by every cache attached there. */
interface SharedMetrics {
  readonly registry: Registry
  readonly prefix: string
  readonly buckets: number[]
  readonly loaderBuckets: number[]
  readonly attachments: Map<string, Attachment>
  /** Registered metrics by name, to unregister them when the last cache detaches. */
  readonly metrics: Map<string, Metric<string>>
  readonly operationDuration: Histogram<string>
  readonly loaderDuration: Histogram<string>
}

// Kept on globalThis so that two copies of this package (ESM and CJS) share one table per registry.
const TABLE_KEY = Symbol.for('@strata-cache/metrics:prometheus')
const globals = globalThis as Record<symbol, unknown>
if (globals[TABLE_KEY] === undefined) globals[TABLE_KEY] = new WeakMap()
const table = globals[TABLE_KEY] as WeakMap<Registry, Map<string, SharedMetrics>>

/**
 * Registers the cache metrics of DESIGN.md on a prom-client registry and keeps them up to date.
 * Several caches can share a registry (each with its own `cacheName`). Returns the function that
 * detaches this cache; the metrics leave the registry when the last cache detaches.
 */
export function prometheusMetrics(cache: Cache, options: PrometheusMetricsOptions = {}): () => void {
  assertKnownOptions(WHERE, options, OPTIONS)
  if (typeof (cache as { on?: unknown } | undefined)?.on !== 'function') {
    throw new CacheOptionError(`${WHERE}: the first argument must be a Cache from @strata-cache/core`)
  }
  const registry = options.registry ?? defaultRegistry
  if (typeof registry?.registerMetric !== 'function' || typeof registry.getSingleMetric !== 'function') {
    throw new CacheOptionError(`${WHERE}: option "registry" must be a prom-client Registry`, {
      option: 'registry',
    })
  }
  const prefix = options.prefix ?? ''
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw new CacheOptionError(
      `${WHERE}: option "prefix" must be a metric name prefix of letters, digits, _ and : (not starting with a digit), got ${JSON.stringify(prefix)}`,
      { option: 'prefix' },
    )
  }
  const name = resolveCacheName(WHERE, options.cacheName)
  const keyPattern = resolveKeyPattern(WHERE, options.keyPattern)
  const maxPatterns = resolveMaxPatterns(WHERE, options.maxPatterns)
  const buckets = resolveBuckets(WHERE, 'buckets', options.buckets, OPERATION_BUCKETS)
  const loaderBuckets = resolveBuckets(WHERE, 'loaderBuckets', options.loaderBuckets, LOADER_BUCKETS)

  let byPrefix = table.get(registry)
  let shared = byPrefix?.get(prefix)
  if (shared !== undefined) {
    if (shared.attachments.has(name)) {
      throw new CacheOptionError(
        `${WHERE}: a cache named "${name}" is already attached to this registry; give each cache its own "cacheName"`,
        { option: 'cacheName' },
      )
    }
    for (const a of shared.attachments.values()) {
      if (a.cache === cache) {
        throw new CacheOptionError(
          `${WHERE}: this cache is already attached to this registry as "${a.name}"; detach it first`,
          { option: 'cacheName' },
        )
      }
    }
    if (options.buckets !== undefined && !sameNumbers(buckets, shared.buckets)) {
      throw new CacheOptionError(
        `${WHERE}: option "buckets" differs from the buckets already registered on this registry (${shared.buckets.join(', ')})`,
        { option: 'buckets' },
      )
    }
    if (options.loaderBuckets !== undefined && !sameNumbers(loaderBuckets, shared.loaderBuckets)) {
      throw new CacheOptionError(
        `${WHERE}: option "loaderBuckets" differs from the buckets already registered on this registry (${shared.loaderBuckets.join(', ')})`,
        { option: 'loaderBuckets' },
      )
    }
  } else {
    shared = createShared(registry, prefix, buckets, loaderBuckets)
    if (byPrefix === undefined) {
      byPrefix = new Map()
      table.set(registry, byPrefix)
    }
    byPrefix.set(prefix, shared)
  }

  const attachment: Attachment = {
    cache,
    name,
    recorder: undefined as unknown as CacheRecorder,
    operationLabels: new Map(),
    loaderLabels: new Map(),
  }
  const { operationDuration, loaderDuration } = shared
  ;(attachment as { recorder: CacheRecorder }).recorder = new CacheRecorder(cache, {
    cacheName: name,
    keyPattern,
    maxPatterns,
    hooks: {
      onOperation(sample) {
        const id = `${sample.operation}\u0000${sample.tier}`
        let labels = attachment.operationLabels.get(id)
        if (labels === undefined) {
          labels = { cache: name, operation: sample.operation, tier: sample.tier }
          attachment.operationLabels.set(id, labels)
        }
        operationDuration.observe(labels, sample.durationMs / 1000)
      },
      onLoader(sample) {
        const result = sample.ok ? 'success' : 'failure'
        const id = `${sample.pattern}\u0000${result}`
        let labels = attachment.loaderLabels.get(id)
        if (labels === undefined) {
          labels = { cache: name, key_pattern: sample.pattern, result }
          attachment.loaderLabels.set(id, labels)
        }
        loaderDuration.observe(labels, sample.durationMs / 1000)
      },
    },
  })
  shared.attachments.set(name, attachment)

  let detached = false
  return () => {
    if (detached) return
    detached = true
    attachment.recorder.detach()
    const current = shared
    current.attachments.delete(name)
    for (const labels of attachment.operationLabels.values()) current.operationDuration.remove(labels)
    for (const labels of attachment.loaderLabels.values()) current.loaderDuration.remove(labels)
    if (current.attachments.size === 0) {
      for (const [metricName, metric] of current.metrics) {
        if (current.registry.getSingleMetric(metricName) === metric)
          current.registry.removeSingleMetric(metricName)
      }
      const forRegistry = table.get(current.registry)
      forRegistry?.delete(current.prefix)
      if (forRegistry?.size === 0) table.delete(current.registry)
    }
  }
}

function createShared(
  registry: Registry,
  prefix: string,
  buckets: number[],
  loaderBuckets: number[],
): SharedMetrics {
  const attachments = new Map<string, Attachment>()
  const n = (base: string) => `${prefix}${base}`

  const names = [
    'cache_hits_total',
    'cache_misses_total',
    'cache_stale_served_total',
    'cache_errors_total',
    'cache_invalidations_total',
    'cache_operation_duration_seconds',
    'cache_loader_duration_seconds',
    'cache_keys_total',
    'cache_size_bytes',
    'cache_evictions_total',
    'cache_tier_available',
    'cache_circuit_breaker_state',
    'cache_bus_connected',
    'cache_bus_messages_sent_total',
    'cache_bus_messages_received_total',
    'cache_bus_messages_dropped_total',
    'cache_bus_gaps_total',
    'cache_bus_reconnects_total',
  ].map(n)
  // Check every name before registering any, so a conflict leaves the registry as it was.
  for (const metricName of names) {
    if (registry.getSingleMetric(metricName) !== undefined) {
      throw new CacheOptionError(
        `${WHERE}: the registry already has a metric named "${metricName}" that Strata did not register; pass a "prefix" or another "registry"`,
        { option: 'prefix' },
      )
    }
  }

  const all = () => attachments.values()
  const readCounter = (base: string, help: string, pick: (cell: ReadCell) => number) =>
    new Counter({
      name: n(base),
      help,
      labelNames: ['cache', 'tier', 'key_pattern'],
      registers: [],
      collect() {
        this.reset()
        for (const a of all()) {
          for (const cell of a.recorder.reads) {
            const value = pick(cell)
            if (value > 0) this.inc({ cache: a.name, tier: cell.tier, key_pattern: cell.pattern }, value)
          }
        }
      },
    })
  const labelledCounter = (
    base: string,
    help: string,
    labelNames: [string, string],
    pick: (recorder: CacheRecorder) => Map<string, LabelledCount>,
  ) =>
    new Counter({
      name: n(base),
      help,
      labelNames: ['cache', ...labelNames],
      registers: [],
      collect() {
        this.reset()
        for (const a of all()) {
          for (const { labels, value } of pick(a.recorder).values()) {
            this.inc({ cache: a.name, [labelNames[0]]: labels[0]!, [labelNames[1]]: labels[1]! }, value)
          }
        }
      },
    })
  // Figures the stores own are read once per scrape, not counted per operation.
  const figuresOf = () =>
    Promise.all([...all()].map(async (a) => ({ a, figures: await a.recorder.figures() })))
  const tierGauge = (base: string, help: string, pick: (t: TierFigures) => number | undefined) =>
    new Gauge({
      name: n(base),
      help,
      labelNames: ['cache', 'tier'],
      registers: [],
      async collect() {
        const snapshot = await figuresOf()
        this.reset()
        for (const { a, figures } of snapshot) {
          for (const t of figures) {
            const value = pick(t)
            if (value !== undefined) this.set({ cache: a.name, tier: t.tier }, value)
          }
        }
      },
    })
  const busCounter = (
    base: string,
    help: string,
    field: 'sent' | 'received' | 'dropped' | 'gaps' | 'reconnects',
  ) =>
    new Counter({
      name: n(base),
      help,
      labelNames: ['cache'],
      registers: [],
      async collect() {
        const snapshot = await figuresOf()
        this.reset()
        for (const { a, figures } of snapshot) {
          const value = figures.find((t) => t.bus !== undefined)?.bus?.[field]
          if (value !== undefined) this.inc({ cache: a.name }, value)
        }
      },
    })

  const operationDuration = new Histogram({
    name: n('cache_operation_duration_seconds'),
    help: 'Duration of cache operations that reached the store, by operation and the tier that answered (L1 fast-path hits are not timed)',
    labelNames: ['cache', 'operation', 'tier'],
    buckets,
    registers: [],
  })
  const loaderDuration = new Histogram({
    name: n('cache_loader_duration_seconds'),
    help: 'Duration of getOrSet loader runs, by key pattern and result (success|failure)',
    labelNames: ['cache', 'key_pattern', 'result'],
    buckets: loaderBuckets,
    registers: [],
  })

  const list: Metric<string>[] = [
    readCounter(
      'cache_hits_total',
      'Reads that found a value (stale ones included), by tier and key pattern',
      (c) => c.hits,
    ),
    readCounter(
      'cache_misses_total',
      'Reads that found nothing in any tier, by key pattern',
      (c) => c.misses,
    ),
    readCounter(
      'cache_stale_served_total',
      'Values served past their TTL within grace, by tier and key pattern',
      (c) => c.stale,
    ),
    labelledCounter(
      'cache_errors_total',
      'Errors the cache absorbed or passed on (store failures, corrupt entries, loader failures)',
      ['operation', 'error_type'],
      (r) => r.errors,
    ),
    labelledCounter(
      'cache_invalidations_total',
      'Invalidation calls (not keys), by kind (key|pattern|tags|clear) and source (local|bus)',
      ['kind', 'source'],
      (r) => r.invalidations,
    ),
    operationDuration,
    loaderDuration,
    tierGauge('cache_keys_total', 'Entries each tier holds, read at scrape time', (t) => t.entries),
    tierGauge('cache_size_bytes', 'Bytes each tier holds (L1 size), read at scrape time', (t) => t.bytes),
    new Counter({
      name: n('cache_evictions_total'),
      help: 'Entries each tier evicted to stay within its bounds',
      labelNames: ['cache', 'tier'],
      registers: [],
      async collect() {
        const snapshot = await figuresOf()
        this.reset()
        for (const { a, figures } of snapshot) {
          for (const t of figures)
            if (t.evictions !== undefined) this.inc({ cache: a.name, tier: t.tier }, t.evictions)
        }
      },
    }),
    tierGauge('cache_tier_available', '1 when the tier answers, 0 when it is down', (t) =>
      t.available ? 1 : 0,
    ),
    new Gauge({
      name: n('cache_circuit_breaker_state'),
      help: 'Circuit breaker state per tier: 0 closed, 1 half-open, 2 open',
      labelNames: ['cache', 'tier'],
      registers: [],
      async collect() {
        const snapshot = await figuresOf()
        this.reset()
        for (const { a, figures } of snapshot) {
          const states = new Map(a.recorder.breakers)
          for (const t of figures) if (t.breaker !== undefined) states.set(t.tier, t.breaker)
          for (const [tier, value] of states) this.set({ cache: a.name, tier }, value)
        }
      },
    }),
    new Gauge({
      name: n('cache_bus_connected'),
      help: '1 while the invalidation bus is connected, 0 after it dropped',
      labelNames: ['cache'],
      registers: [],
      collect() {
        this.reset()
        for (const a of all()) {
          if (a.recorder.busConnected !== undefined) this.set({ cache: a.name }, a.recorder.busConnected)
        }
      },
    }),
    busCounter('cache_bus_messages_sent_total', 'Invalidation messages this pod published', 'sent'),
    busCounter(
      'cache_bus_messages_received_total',
      'Invalidation messages this pod received from others',
      'received',
    ),
    busCounter(
      'cache_bus_messages_dropped_total',
      'Invalidation messages dropped (malformed, or lost while disconnected)',
      'dropped',
    ),
    busCounter(
      'cache_bus_gaps_total',
      'Sequence gaps detected on the bus (L1 dropped as a precaution)',
      'gaps',
    ),
    busCounter('cache_bus_reconnects_total', 'Bus reconnections', 'reconnects'),
  ]
  const metrics = new Map<string, Metric<string>>()
  for (const metric of list) {
    registry.registerMetric(metric)
    // prom-client's types leave `name` out, but every metric has it.
    metrics.set((metric as unknown as { name: string }).name, metric)
  }
  return { registry, prefix, buckets, loaderBuckets, attachments, metrics, operationDuration, loaderDuration }
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}
