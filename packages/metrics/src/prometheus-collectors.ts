import type { Cache } from '@strata-cache/core'
import { CacheOptionError } from '@strata-cache/core'
import type * as PromClient from 'prom-client'
import type { Histogram, Metric, Registry } from 'prom-client'
import type { CacheRecorder, LabelledCount, ReadCell } from './recorder.ts'
import { REPAIR_OUTCOMES, type TierFigures } from './tier-figures.ts'

/** The parts of prom-client this package uses, handed in by whichever entry loaded it. */
export type PromClientApi = Pick<typeof PromClient, 'Counter' | 'Gauge' | 'Histogram' | 'register'>

const WHERE = 'prometheusMetrics'

/** One cache attached to a (registry, prefix). */
export interface Attachment {
  readonly cache: Cache
  readonly name: string
  readonly recorder: CacheRecorder
  /** Label objects of histogram series this cache created, reused per observation and removed on detach. */
  readonly operationLabels: Map<string, Record<string, string>>
  readonly loaderLabels: Map<string, Record<string, string>>
}

/** The metric objects of one (registry, prefix), shared by every cache attached there. */
export interface SharedMetrics {
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

/**
 * Registers every cache metric under `prefix` on `registry`, reading the counts of the attached
 * caches at scrape time. Checks every name first, so a conflict leaves the registry as it was.
 */
export function createShared(
  prom: PromClientApi,
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
    'cache_refresh_ahead_total',
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
    'cache_bus_messages_rejected_total',
    'cache_bus_gaps_total',
    'cache_bus_reconnects_total',
    'cache_l2_repairs_pending',
    'cache_l2_repairs_total',
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
    new prom.Counter({
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
    new prom.Counter({
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
    new prom.Gauge({
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
    field: 'sent' | 'received' | 'dropped' | 'rejected' | 'gaps' | 'reconnects',
  ) =>
    new prom.Counter({
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

  const operationDuration = new prom.Histogram({
    name: n('cache_operation_duration_seconds'),
    help: 'Duration of cache operations that reached the store, by operation and the tier that answered (L1 fast-path hits are not timed)',
    labelNames: ['cache', 'operation', 'tier'],
    buckets,
    registers: [],
  })
  const loaderDuration = new prom.Histogram({
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
    new prom.Counter({
      name: n('cache_refresh_ahead_total'),
      help: 'Background reloads refresh-ahead started on a hit near expiry, by key pattern',
      labelNames: ['cache', 'key_pattern'],
      registers: [],
      collect() {
        this.reset()
        for (const a of all()) {
          for (const { labels, value } of a.recorder.refreshes.values())
            this.inc({ cache: a.name, key_pattern: labels[0]! }, value)
        }
      },
    }),
    operationDuration,
    loaderDuration,
    tierGauge('cache_keys_total', 'Entries each tier holds, read at scrape time', (t) => t.entries),
    tierGauge('cache_size_bytes', 'Bytes each tier holds (L1 size), read at scrape time', (t) => t.bytes),
    new prom.Counter({
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
    new prom.Gauge({
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
    new prom.Gauge({
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
      'cache_bus_messages_rejected_total',
      'Invalidation messages refused for a missing or wrong signature (a bus with a secret): forged, or a pod without the secret',
      'rejected',
    ),
    busCounter(
      'cache_bus_gaps_total',
      'Sequence gaps detected on the bus (L1 dropped as a precaution)',
      'gaps',
    ),
    busCounter('cache_bus_reconnects_total', 'Bus reconnections', 'reconnects'),
    new prom.Gauge({
      name: n('cache_l2_repairs_pending'),
      help: 'Removals L2 could not apply yet (kept for replay when it answers again), by tier',
      labelNames: ['cache', 'tier'],
      registers: [],
      async collect() {
        const snapshot = await figuresOf()
        this.reset()
        for (const { a, figures } of snapshot)
          for (const t of figures)
            if (t.repairs?.pending !== undefined) this.set({ cache: a.name, tier: t.tier }, t.repairs.pending)
      },
    }),
    new prom.Counter({
      name: n('cache_l2_repairs_total'),
      help: 'L2 repairs by outcome: queued (L2 missed a removal or write), replayed (applied after recovery), collapsed (past maxRepairs, one clear)',
      labelNames: ['cache', 'tier', 'outcome'],
      registers: [],
      async collect() {
        const snapshot = await figuresOf()
        this.reset()
        for (const { a, figures } of snapshot)
          for (const t of figures)
            for (const outcome of REPAIR_OUTCOMES) {
              const value = t.repairs?.[outcome]
              if (value !== undefined) this.inc({ cache: a.name, tier: t.tier, outcome }, value)
            }
      },
    }),
  ]
  const metrics = new Map<string, Metric<string>>()
  for (const metric of list) {
    registry.registerMetric(metric)
    // prom-client's types leave `name` out, but every metric has it.
    metrics.set((metric as unknown as { name: string }).name, metric)
  }
  return { registry, prefix, buckets, loaderBuckets, attachments, metrics, operationDuration, loaderDuration }
}
