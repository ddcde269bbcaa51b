import { type Cache, CacheOptionError } from '@strata-cache/core'
import { assertKnownOptions } from '@strata-cache/core/internal'
import type { Registry } from 'prom-client'
import { LOADER_BUCKETS, OPERATION_BUCKETS, resolveBuckets } from './buckets.ts'
import { type KeyPatternFn, resolveCacheName, resolveKeyPattern, resolveMaxPatterns } from './labels.ts'
import {
  type Attachment,
  createShared,
  type PromClientApi,
  type SharedMetrics,
} from './prometheus-collectors.ts'
import { CacheRecorder } from './recorder.ts'

/** Options of {@link prometheusMetrics}. */
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

// Kept on globalThis so that two copies of this package (ESM and CJS) share one table per registry.
const TABLE_KEY = Symbol.for('@strata-cache/metrics:prometheus')
const globals = globalThis as Record<symbol, unknown>
if (globals[TABLE_KEY] === undefined) globals[TABLE_KEY] = new WeakMap()
const table = globals[TABLE_KEY] as WeakMap<Registry, Map<string, SharedMetrics>>

/**
 * What `prometheusMetrics` does, given prom-client: the `/prometheus` entry hands in the module it
 * imports, the root entry the one it loads on first use.
 */
export function attachPrometheusMetrics(
  prom: PromClientApi,
  cache: Cache,
  options: PrometheusMetricsOptions = {},
): () => void {
  assertKnownOptions(WHERE, options, OPTIONS)
  if (typeof (cache as { on?: unknown } | undefined)?.on !== 'function') {
    throw new CacheOptionError(`${WHERE}: the first argument must be a Cache from @strata-cache/core`)
  }
  const registry = options.registry ?? prom.register
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
    shared = createShared(prom, registry, prefix, buckets, loaderBuckets)
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

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}
