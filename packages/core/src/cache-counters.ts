import type { CacheEntry } from './cache-entry.ts'
import type { TierStats } from './cache-store.ts'
import type { CacheEvents } from './events.ts'

/** What `Cache.stats()` returns: the Cache's counters since creation, and the figures each tier reports. */
export interface CacheStats {
  /** Reads that found a value (fresh or stale). */
  hits: number
  /** Of the hits, how many were served stale within grace. */
  staleHits: number
  /** Reads that found nothing servable. */
  misses: number
  /** hits / (hits + misses), from 0 to 1; 0 before any read. */
  hitRate: number
  /** Entries written (by `set` or a loader run). */
  sets: number
  /** `delete` calls. */
  deletes: number
  /** Invalidation calls (`invalidate`, `invalidateTags`, `clear`), not keys removed. */
  invalidations: number
  /** Errors absorbed or passed on (store failures, corrupt entries, loader failures). */
  errors: number
  /**
   * Loader runs, how many failed, how many times a caller stopped waiting (soft or hard timeout), and
   * how many of the runs were refresh-ahead reloads.
   */
  loader: { runs: number; errors: number; timeouts: number; refreshes: number }
  /** Hits per tier name. */
  hitsByTier: Record<string, number>
  /** What each tier reports (entries, bytes, Redis INFO figures...). */
  tiers: TierStats[]
}

/**
 * The Cache's record of what happened: each hit, miss, error and loader run is counted here and,
 * while someone listens, announced as the matching event. Plain fields, incremented in place by
 * the Cache and its loader runs; `snapshot` turns them into the CacheStats a caller reads.
 */
export class CacheCounters {
  hits = 0
  staleHits = 0
  misses = 0
  sets = 0
  deletes = 0
  invalidations = 0
  errors = 0
  loaderRuns = 0
  loaderErrors = 0
  loaderTimeouts = 0
  refreshes = 0
  // Hits per tier, with the last tier's counter at hand: consecutive hits mostly come from one tier.
  private readonly tierHits = new Map<string, { n: number }>()
  private lastTier = ''
  private lastTierHits = { n: 0 }

  /** @param storeName the tier named for a hit or an error that names none. */
  constructor(
    private readonly events: CacheEvents,
    private readonly storeName: string,
  ) {}

  /** Counts a hit on `entry` (by the tier that answered) and emits `hit`. */
  hit(key: string, entry: CacheEntry, stale: boolean): void {
    this.hits++
    if (stale) this.staleHits++
    const tier = entry.tier ?? this.storeName
    if (tier !== this.lastTier) {
      let counter = this.tierHits.get(tier)
      if (counter === undefined) {
        counter = { n: 0 }
        this.tierHits.set(tier, counter)
      }
      this.lastTier = tier
      this.lastTierHits = counter
    }
    this.lastTierHits.n++
    if (this.events.has('hit')) this.events.emit('hit', { key, tier, stale })
  }

  /** Counts a miss and emits `miss`. */
  miss(key: string): void {
    this.misses++
    if (this.events.has('miss')) this.events.emit('miss', { key })
  }

  /** Counts an error the Cache absorbed or passed on, and emits `error` (tier: the error's own, else the store's). */
  error(operation: string, error: unknown, key?: string): void {
    this.errors++
    if (this.events.has('error')) {
      const tier = (error as { tier?: unknown })?.tier
      this.events.emit('error', {
        operation,
        tier: typeof tier === 'string' ? tier : this.storeName,
        error,
        ...(key === undefined ? {} : { key }),
      })
    }
  }

  /** Counts how a loader run ended (a failure is also an error) and emits `loader`; `started` is its performance.now(). */
  loaderDone(key: string, started: number, failure?: { error: unknown }): void {
    if (failure !== undefined) {
      this.loaderErrors++
      this.errors++
    }
    if (this.events.has('loader')) {
      const durationMs = performance.now() - started
      this.events.emit(
        'loader',
        failure === undefined
          ? { key, durationMs, ok: true }
          : { key, durationMs, ok: false, error: failure.error },
      )
    }
  }

  /** The counters as CacheStats, with the tiers' own rows. */
  snapshot(tiers: TierStats[]): CacheStats {
    const reads = this.hits + this.misses
    return {
      hits: this.hits,
      staleHits: this.staleHits,
      misses: this.misses,
      hitRate: reads === 0 ? 0 : this.hits / reads,
      sets: this.sets,
      deletes: this.deletes,
      invalidations: this.invalidations,
      errors: this.errors,
      loader: {
        runs: this.loaderRuns,
        errors: this.loaderErrors,
        timeouts: this.loaderTimeouts,
        refreshes: this.refreshes,
      },
      hitsByTier: Object.fromEntries([...this.tierHits].map(([tier, counter]) => [tier, counter.n])),
      tiers,
    }
  }
}
