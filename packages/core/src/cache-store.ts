import type { CacheEntry } from './cache-entry.ts'
import type { ChannelEvent, ChannelTransport } from './channels.ts'
import type { CacheTracing } from './tracing.ts'

/**
 * One tier of storage. MemoryStore, RedisStore and TieredStore all implement it, and so can yours:
 * run `describeStoreConformance` from the test suite against it.
 *
 * Contract: keys and patterns reach a store already validated by the Cache; a store never returns
 * an entry past its `staleUntil`; a value it cannot serialize or that is over its size limit is
 * refused with a CacheError before anything is written (the previous entry stays).
 */
export interface CacheStore {
  /** The tier's name in events, stats and health (`'memory'`, `'redis'`, ...); an entry's `tier` defaults to it. */
  readonly name: string
  /**
   * The entry under `key`, fresh or within grace; undefined when absent or past `staleUntil`.
   * Rejects when the store cannot answer (the Cache turns that into a miss and an `error` event).
   */
  get<T>(key: string): Promise<CacheEntry<T> | undefined>
  /**
   * Writes `entry` under `key`, held until its `staleUntil`. Rejects with a CacheError
   * (E_SERIALIZATION, E_VALUE_TOO_LARGE) before writing anything when the value cannot be stored.
   */
  set<T>(key: string, entry: CacheEntry<T>): Promise<void>
  /** Removes one entry; resolves whether the store had it. */
  delete(key: string): Promise<boolean>
  /** Removes every entry whose key matches the glob (`*`, `?`); resolves how many were removed. */
  deletePattern(pattern: string): Promise<number>
  /** Removes every entry carrying any of the tags; resolves how many were removed. */
  deleteTags(tags: readonly string[]): Promise<number>
  /** Removes only this store's own entries (its prefix), never another application's. */
  clear(): Promise<void>
  /** Releases the store's connections and timers; the store serves no call afterwards. */
  close(): Promise<void>
  /** Many entries in one call, batched where the store can; same order as `keys`. Without it the Cache calls `get` per key. */
  getMany?<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]>
  /** Writes many entries, batched where the store can. */
  setMany?<T>(entries: readonly [string, CacheEntry<T>][]): Promise<void>
  /** Removes many entries, batched where the store can (one round trip, one notice); resolves how many it had. Without it the Cache calls `delete` per key. */
  deleteMany?(keys: readonly string[]): Promise<number>
  /** Figures per tier for `Cache.stats()`. Without it the Cache reports one available row. */
  stats?(): Promise<TierStats[]>
  /** Checks per tier for `Cache.health()`. Without it the store counts as up. */
  health?(): Promise<TierHealth[]>
  /** Subscribes to the events the store raises by itself (errors it absorbed, breaker and bus changes, bus invalidations); returns the unsubscribe function. */
  subscribe?(listener: StoreEventListener): () => void
  /**
   * Synchronous read of an in-process tier, for the L1-hit fast path. Returns undefined when the
   * entry is absent or past staleUntil; the Cache then takes the async `get`. `at` is the caller's
   * clock reading (epoch ms), passed so that one clock read serves both the store and the Cache.
   */
  peek?<T>(key: string, at?: number): CacheEntry<T> | undefined
  /** Cross-process single flight for `getOrSet(..., { lock: true })`, offered by stores that can. */
  readonly lock?: DistributedLock
  /**
   * Marks the start of a load of `key` (a `getOrSet` miss about to call its loader); the token goes
   * back to {@link setLoaded} with the loader's result. Optional: stores shared between processes
   * offer it so that a loader that read old data cannot write it over a change made meanwhile.
   */
  startLoad?(key: string): LoadToken
  /**
   * Writes a loader's result unless the key (its tags, a matching pattern, the whole store) changed
   * since {@link startLoad}, or `lease` is no longer held (checked with the write, atomically where
   * the lease has a `fence`). Resolves whether it was written; rejects only for bad input, like `set`.
   */
  setLoaded?<T>(key: string, entry: CacheEntry<T>, token: LoadToken, lease?: LockLease): Promise<boolean>
  /**
   * {@link setLoaded} for a batch of loader results (`getOrSetMany`), each with its own token, in one
   * round trip and one notice to the other processes where the store can. Resolves, per entry,
   * whether it was written; rejects only for bad input, before anything is written.
   */
  setLoadedMany?<T>(entries: readonly [string, CacheEntry<T>, LoadToken][]): Promise<boolean[]>
  /** Installs (or, with undefined, removes) a tracing hook for spans per round trip (`Cache.trace` with `storeSpans`). */
  trace?(tracing: CacheTracing | undefined): void
  /** Application channels across every process sharing the store (TieredStore over Redis); without it the Cache's are in process. */
  readonly channels?: ChannelTransport
}

/** What {@link CacheStore.startLoad} hands out, opaque to the Cache. */
export type LoadToken = unknown

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

/** The right to load one key, held by one process at a time. */
export interface LockLease {
  /** False once the lease expired or was taken over (the fencing check); then do not write. */
  isValid(): Promise<boolean>
  /**
   * Where the lease lives (`key` holds `token` while it is held), for a store that checks it in the
   * same atomic step as the write (see {@link CacheStore.setLoaded}). Optional.
   */
  readonly fence?: { readonly key: string; readonly token: string }
  /** Gives the lease up, so waiting processes read the value (or load) at once. */
  release(): Promise<void>
}

/** Whether a tier answers. */
export type TierStatus = 'up' | 'down'

/** Per-tier figures. Stores fill what they know; unknown figures are left out. */
export interface TierStats {
  /** The tier's name. */
  tier: string
  /** Whether the tier answered. */
  available: boolean
  /** Entries it holds. */
  entries?: number
  /** Bytes its entries take. */
  bytes?: number
  /** Entries it dropped to stay within its bounds. */
  evictions?: number
  /** Reads it answered with an entry. */
  hits?: number
  /** Reads it answered with nothing. */
  misses?: number
  /** Failures it absorbed. */
  errors?: number
  /** Anything else the tier reports (Redis INFO figures, breaker state, bus counters). */
  details?: Record<string, unknown>
}

/** One tier's health check. */
export interface TierHealth {
  /** The tier's name. */
  tier: string
  /** Whether it answered. */
  status: TierStatus
  /** Round trip of the check, when it made one. */
  latencyMs?: number
  /** Why it is down, when it is. */
  message?: string
  /** Whether the Cache can still serve without this tier (true for an L2 behind an L1, or a bus). */
  optional?: boolean
  /** Anything else the check found. */
  details?: Record<string, unknown>
}

/** A circuit breaker's state: `open` sends no command to the tier, `half-open` is probing it. */
export type BreakerState = 'closed' | 'open' | 'half-open'
/** The invalidation bus's state: `gap` and `dropped` mean notices may have been missed (L1 is dropped). */
export type BusState = 'connected' | 'disconnected' | 'gap' | 'dropped'
/** What an invalidation names: keys, a glob pattern, tags, or the whole store. */
export type InvalidationKind = 'key' | 'pattern' | 'tags' | 'clear'

/** What a store may report on its own; the Cache re-emits these as its events. */
export type StoreEvent =
  | { type: 'error'; operation: string; tier: string; error: unknown; key?: string; count?: number }
  | { type: 'breaker'; tier: string; state: BreakerState; previous: BreakerState }
  | { type: 'bus'; state: BusState; reason?: string; dropped?: number }
  | ({ type: 'channel' } & ChannelEvent)
  | {
      type: 'invalidate'
      kind: InvalidationKind
      source: 'bus'
      keys?: readonly string[]
      pattern?: string
      tags?: readonly string[]
    }

/** Receives a store's events; see `CacheStore.subscribe`. */
export type StoreEventListener = (event: StoreEvent) => void
