import type { Cache, CacheEventMap } from '@strata-cache/core'
import { boundedName, errorTypeOf, type KeyPatternFn, OVERFLOW_PATTERN } from './labels.ts'
import { breakerValue, type TierFigures, tierFigures } from './tier-figures.ts'

/** Reads of one (tier, key pattern): plain numbers, so a hit costs one increment. */
export interface ReadCell {
  readonly tier: string
  readonly pattern: string
  hits: number
  stale: number
  misses: number
}

/** A count under a fixed list of label values. */
export interface LabelledCount {
  readonly labels: readonly string[]
  value: number
}

/** How a read ended, as far as the events tell. */
export type ReadResult = 'hit' | 'stale' | 'miss'

/** One timed facade operation (the L1 fast path is not timed by the Cache, by design). */
export interface OperationSample {
  operation: string
  /** The tier that answered a read, else the cache's store (all its tiers). */
  tier: string
  result: ReadResult | undefined
  pattern: string | undefined
  durationMs: number
}

export interface LoaderSample {
  pattern: string
  ok: boolean
  durationMs: number
  error?: unknown
}

/** Per-sample callbacks for what must be observed as it happens (histograms, spans). */
export interface RecorderHooks {
  onOperation?(sample: OperationSample): void
  onLoader?(sample: LoaderSample): void
}

export interface RecorderOptions {
  cacheName: string
  keyPattern: KeyPatternFn
  maxPatterns: number
  hooks?: RecorderHooks
}

interface PatternRecord {
  readonly pattern: string
  /** The cell of the tier seen last: consecutive hits from one tier skip the tier lookup. */
  last: ReadCell
  readonly byTier: Map<string, ReadCell>
}

// Key → pattern memo, so the pattern function runs once per key and not on every hit.
const KEY_MEMO_LIMIT = 10_000

/**
 * Listens to one cache and keeps its counts as plain numbers; exporters read them at scrape or
 * collection time. Per hit: one Map lookup by key and one increment, no label hashing.
 */
export class CacheRecorder {
  readonly cacheName: string
  /** Tier label of a miss: the cache's store, i.e. every tier it has. */
  readonly missTier: string
  readonly reads: ReadCell[] = []
  readonly errors = new Map<string, LabelledCount>()
  readonly invalidations = new Map<string, LabelledCount>()
  /** Refresh-ahead reloads started, by key pattern (labels: `[key_pattern]`). */
  readonly refreshes = new Map<string, LabelledCount>()
  /** Breaker states (gauge values) by tier, from breaker events; stats figures take precedence. */
  readonly breakers = new Map<string, number>()
  /** 1 while the bus is connected, 0 after a disconnect, undefined before any bus event. */
  busConnected: number | undefined

  private readonly cache: Cache
  private readonly keyPattern: KeyPatternFn
  private readonly maxPatterns: number
  private readonly byKey = new Map<string, PatternRecord>()
  private readonly byPattern = new Map<string, PatternRecord>()
  private readonly unsubscribes: (() => void)[] = []
  private pendingFigures: Promise<TierFigures[]> | undefined
  // The last read's event (one pointer write per hit), so a following `operation` event for the
  // same key learns the tier that answered and the result.
  private lastRead: CacheEventMap['hit'] | CacheEventMap['miss'] | undefined

  constructor(cache: Cache, options: RecorderOptions) {
    this.cache = cache
    this.cacheName = options.cacheName
    this.keyPattern = options.keyPattern
    this.maxPatterns = options.maxPatterns
    this.missTier = boundedName(cache.store?.name)
    const hooks = options.hooks

    this.unsubscribes.push(
      cache.on('hit', (e) => {
        let record = this.byKey.get(e.key)
        if (record === undefined) record = this.recordFor(e.key)
        let cell = record.last
        if (cell.tier !== e.tier) cell = this.cellFor(record, e.tier)
        cell.hits++
        if (e.stale) cell.stale++
        this.lastRead = e
      }),
      cache.on('miss', (e) => {
        let record = this.byKey.get(e.key)
        if (record === undefined) record = this.recordFor(e.key)
        let cell = record.last
        if (cell.tier !== this.missTier) cell = this.cellFor(record, this.missTier)
        cell.misses++
        this.lastRead = e
      }),
      cache.on('error', (e) => this.countError(e.operation, e.error, e.count)),
      cache.on('invalidate', (e) => count(this.invalidations, [boundedName(e.kind), boundedName(e.source)])),
      cache.on('refresh', (e) => count(this.refreshes, [this.patternOf(e.key)])),
      cache.on('breaker', (e) => {
        const value = breakerValue(e.state)
        if (value !== undefined) this.breakers.set(boundedName(e.tier), value)
      }),
      cache.on('bus', (e) => {
        if (e.state === 'connected') this.busConnected = 1
        else if (e.state === 'disconnected') this.busConnected = 0
      }),
      cache.on('loader', (e) => {
        if (!e.ok) this.countError('loader', e.error)
        if (hooks?.onLoader !== undefined) {
          const sample: LoaderSample = { pattern: this.patternOf(e.key), ok: e.ok, durationMs: e.durationMs }
          if (!e.ok) sample.error = e.error
          hooks.onLoader(sample)
        }
      }),
    )
    const onOperation = hooks?.onOperation
    if (onOperation !== undefined) {
      this.unsubscribes.push(cache.on('operation', (e) => onOperation(this.operationSample(e))))
    }
  }

  /** Stops listening; counts stay readable but no longer change. Idempotent. */
  detach(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe()
  }

  /** Tier figures for one scrape: concurrent callers share one `cache.stats()` call. */
  figures(): Promise<TierFigures[]> {
    let pending = this.pendingFigures
    if (pending === undefined) {
      pending = this.cache.stats().then(
        (stats) => tierFigures(stats.tiers ?? []),
        () => [],
      )
      const mine = pending
      this.pendingFigures = mine
      mine.then(() => {
        if (this.pendingFigures === mine) this.pendingFigures = undefined
      })
    }
    return pending
  }

  /** The bounded label of a key (memoised). */
  patternOf(key: string): string {
    return (this.byKey.get(key) ?? this.recordFor(key)).pattern
  }

  private operationSample(e: CacheEventMap['operation']): OperationSample {
    let tier = e.tier === undefined ? this.missTier : boundedName(e.tier)
    let result: ReadResult | undefined
    if (e.key !== undefined && (e.operation === 'get' || e.operation === 'getOrSet')) {
      // The Cache emits a slow-path read's hit/miss synchronously right before its `operation`.
      const read = this.lastRead
      if (read !== undefined && read.key === e.key) {
        if ('tier' in read) {
          if (e.tier === undefined) tier = boundedName(read.tier)
          result = read.stale ? 'stale' : 'hit'
        } else {
          result = 'miss'
        }
      } else {
        result = 'miss' // a getOrSet whose loader ran: its miss came earlier, other reads in between
      }
    }
    return {
      operation: e.operation,
      tier,
      result,
      pattern: e.key === undefined ? undefined : this.patternOf(e.key),
      durationMs: e.durationMs,
    }
  }

  /** `times`: an event may stand for repeated failures (an open breaker's refused calls). */
  private countError(operation: string, error: unknown, times = 1): void {
    count(this.errors, [boundedName(operation), errorTypeOf(error)], times)
  }

  private recordFor(key: string): PatternRecord {
    let pattern: string
    try {
      const p = this.keyPattern(key)
      pattern = typeof p === 'string' && p.length > 0 ? p : OVERFLOW_PATTERN
    } catch {
      pattern = OVERFLOW_PATTERN // a throwing pattern function must not lose the count
    }
    let record = this.byPattern.get(pattern)
    if (record === undefined) {
      if (this.byPattern.size >= this.maxPatterns) {
        pattern = OVERFLOW_PATTERN
        record = this.byPattern.get(pattern)
      }
      if (record === undefined) {
        const first: ReadCell = { tier: this.missTier, pattern, hits: 0, stale: 0, misses: 0 }
        record = { pattern, last: first, byTier: new Map([[first.tier, first]]) }
        this.byPattern.set(pattern, record)
        this.reads.push(first)
      }
    }
    if (this.byKey.size >= KEY_MEMO_LIMIT) this.byKey.clear()
    this.byKey.set(key, record)
    return record
  }

  private cellFor(record: PatternRecord, rawTier: string): ReadCell {
    let cell = record.byTier.get(rawTier)
    if (cell === undefined) {
      const tier = boundedName(rawTier)
      cell = record.byTier.get(tier)
      if (cell === undefined) {
        cell = { tier, pattern: record.pattern, hits: 0, stale: 0, misses: 0 }
        this.reads.push(cell)
        record.byTier.set(tier, cell)
      }
      record.byTier.set(rawTier, cell)
    }
    record.last = cell
    return cell
  }
}

function count(map: Map<string, LabelledCount>, labels: string[], by = 1): void {
  const id = labels.join('\u0000')
  const entry = map.get(id)
  if (entry === undefined) map.set(id, { labels, value: by })
  else entry.value += by
}
