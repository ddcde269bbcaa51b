import type { CacheEntry } from './cache-entry.ts'

/**
 * One tier of storage. MemoryStore, RedisStore and TieredStore all implement it, and so can yours:
 * run `describeStoreConformance` from the test suite against it.
 *
 * Contract: keys and patterns reach a store already validated by the Cache; a store never returns
 * an entry past its `staleUntil`; a value it cannot serialize or that is over its size limit is
 * refused with a CacheError before anything is written (the previous entry stays).
 */
export interface CacheStore {
  readonly name: string
  get<T>(key: string): Promise<CacheEntry<T> | undefined>
  set<T>(key: string, entry: CacheEntry<T>): Promise<void>
  delete(key: string): Promise<boolean>
  /** Glob with `*` and `?`; returns how many entries were removed. */
  deletePattern(pattern: string): Promise<number>
  /** Removes every entry carrying any of the tags; returns how many were removed. */
  deleteTags(tags: readonly string[]): Promise<number>
  /** Removes only this store's own entries (its prefix), never another application's. */
  clear(): Promise<void>
  close(): Promise<void>
  /** Batched where the store can; same order as keys. */
  getMany?<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]>
  setMany?<T>(entries: readonly [string, CacheEntry<T>][]): Promise<void>
  /** Figures per tier for `Cache.stats()`. */
  stats?(): Promise<TierStats[]>
  /** Checks per tier for `Cache.health()`. */
  health?(): Promise<TierHealth[]>
  /** Events the store raises by itself (errors it absorbed, breaker and bus changes, bus invalidations). */
  subscribe?(listener: StoreEventListener): () => void
  /**
   * Synchronous read of an in-process tier, for the L1-hit fast path. Returns undefined when the
   * entry is absent or past staleUntil; the Cache then takes the async `get`. `at` is the caller's
   * clock reading (epoch ms), passed so that one clock read serves both the store and the Cache.
   */
  peek?<T>(key: string, at?: number): CacheEntry<T> | undefined
  /** Cross-process single flight for `getOrSet(..., { lock: true })`, offered by stores that can. */
  readonly lock?: DistributedLock
}

/**
 * One loader per key across every process sharing the store. The Cache first single-flights in
 * process, then the leader calls `acquire`; whoever gets no lease waits with `waitFor`.
 */
export interface DistributedLock {
  /** Tries to become the loader for `key`; resolves undefined when another process holds it. */
  acquire(key: string, ttlMs: number): Promise<LockLease | undefined>
  /**
   * Waits up to `waitMs` for the holder to write `key` (or release its lease), then returns what the
   * store holds; undefined means the caller should run its own loader.
   */
  waitFor<T>(key: string, waitMs: number): Promise<CacheEntry<T> | undefined>
}

export interface LockLease {
  /** False once the lease expired or was taken over (the fencing check); then do not write. */
  isValid(): Promise<boolean>
  release(): Promise<void>
}

export type TierStatus = 'up' | 'down'

/** Per-tier figures. Stores fill what they know; unknown figures are left out. */
export interface TierStats {
  tier: string
  available: boolean
  entries?: number
  bytes?: number
  evictions?: number
  hits?: number
  misses?: number
  errors?: number
  /** Anything else the tier reports (Redis INFO figures, breaker state, bus counters). */
  details?: Record<string, unknown>
}

export interface TierHealth {
  tier: string
  status: TierStatus
  /** Round trip of the check, when it made one. */
  latencyMs?: number
  message?: string
  /** Whether the Cache can still serve without this tier (true for an L2 behind an L1, or a bus). */
  optional?: boolean
  details?: Record<string, unknown>
}

export type BreakerState = 'closed' | 'open' | 'half-open'
export type BusState = 'connected' | 'disconnected' | 'gap' | 'dropped'
export type InvalidationKind = 'key' | 'pattern' | 'tags' | 'clear'

/** What a store may report on its own; the Cache re-emits these as its events. */
export type StoreEvent =
  | { type: 'error'; operation: string; tier: string; error: unknown; key?: string }
  | { type: 'breaker'; tier: string; state: BreakerState; previous: BreakerState }
  | { type: 'bus'; state: BusState; reason?: string; dropped?: number }
  | {
      type: 'invalidate'
      kind: InvalidationKind
      source: 'bus'
      keys?: readonly string[]
      pattern?: string
      tags?: readonly string[]
    }

export type StoreEventListener = (event: StoreEvent) => void
