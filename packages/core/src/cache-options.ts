import type { CacheStore } from './cache-store.ts'
import { type Duration, parseDuration, parseOptionalDuration } from './duration.ts'
import { validateTags } from './key-schema.ts'
import { type RefreshAheadOptions, type RefreshPolicy, resolveRefreshAhead } from './refresh-policy.ts'

/** Options of `new Cache(...)`: the store, and the defaults every call falls back on. */
export interface CacheOptions {
  /** Where entries live: a MemoryStore, a RedisStore, a TieredStore, or your own. */
  store: CacheStore
  /** How long a value stays fresh when a call gives no `ttl`. @default '5m' */
  defaultTtl?: Duration
  /** How long past its TTL a value may still be served by getOrSet when the loader fails or is slow. @default 0 */
  grace?: Duration
  /**
   * Default getOrSet soft timeout: with a stale value at hand, serve it after this long and let the
   * loader finish in the background. Without one, a stale value is served only when the loader fails
   * (or `hardTimeout` passes).
   * @default undefined (none)
   */
  softTimeout?: Duration
  /**
   * Default getOrSet hard timeout: no caller waits longer for a loader than this; without a stale
   * value it rejects with `E_LOADER_TIMEOUT` (the loader still finishes and its result is cached).
   * @default undefined (none: callers wait for the loader)
   */
  hardTimeout?: Duration
  /** Default for getOrSet `lock`: one loader per key across every process (needs a store with `lock`). @default false */
  lock?: boolean
  /** How long a process without the lock waits for the holder's value before loading itself. @default '5s' */
  lockWait?: Duration
  /**
   * Default of getOrSet `refreshAhead`: a hit near expiry starts one background reload while the
   * caller gets the current value (`true`: at 0.8 of the TTL; see RefreshAheadOptions). @default false
   */
  refreshAhead?: boolean | RefreshAheadOptions
  /** Clock, epoch ms. Inject one in tests. @default Date.now */
  now?: () => number
}

/** Options of `set`: how long the value is fresh, how long it may be served stale, and its tags. */
export interface SetOptions {
  /** How long the value stays fresh. @default the Cache's `defaultTtl` */
  ttl?: Duration
  /** How long past its TTL getOrSet may still serve it (loader failing or slow). @default the Cache's `grace` */
  grace?: Duration
  /** Tags for `invalidateTags`; each follows the key alphabet. @default [] (none) */
  tags?: readonly string[]
}

/** Options of `get` and `getMany`. */
export interface GetOptions {
  /** Also return a value past its TTL but within grace. @default false */
  allowStale?: boolean
}

/** Options of `getOrSet`: the entry's timing and tags, and how long callers wait for the loader. */
export interface GetOrSetOptions extends SetOptions {
  /** With a stale value at hand, serve it after this long; the loader finishes in the background. @default the Cache's `softTimeout` */
  softTimeout?: Duration
  /** No caller waits longer for the loader; without a stale value the call rejects with `E_LOADER_TIMEOUT`. @default the Cache's `hardTimeout` */
  hardTimeout?: Duration
  /** One loader per key across every process sharing the store (needs a store with `lock`). @default the Cache's `lock` */
  lock?: boolean
  /** A hit near expiry starts one background reload; the caller gets the current value at once. @default the Cache's `refreshAhead` */
  refreshAhead?: boolean | RefreshAheadOptions
}

/** Options of `wrap`: the key builder, and the getOrSet options of every call. */
export interface WrapOptions<A extends unknown[]> extends GetOrSetOptions {
  /** Builds the cache key from the call's arguments; use a defineKey builder and hashParams. Required. */
  key: (...args: A) => string
}

export const CACHE_OPTIONS = [
  'store',
  'defaultTtl',
  'grace',
  'softTimeout',
  'hardTimeout',
  'lock',
  'lockWait',
  'refreshAhead',
  'now',
] as const
export const SET_OPTIONS = ['ttl', 'grace', 'tags'] as const
export const GET_OR_SET_OPTIONS = [
  ...SET_OPTIONS,
  'softTimeout',
  'hardTimeout',
  'lock',
  'refreshAhead',
] as const
export const WRAP_OPTIONS = [...GET_OR_SET_OPTIONS, 'key'] as const

/** How an entry is written: TTL and grace in ms, and its tags. */
export interface WriteSettings {
  readonly ttlMs: number
  readonly graceMs: number
  readonly tags: readonly string[] | undefined
}

/** The Cache's options in ms, resolved once in its constructor. */
export interface CacheDefaults extends WriteSettings {
  readonly softTimeoutMs: number | undefined
  readonly hardTimeoutMs: number | undefined
  readonly lock: boolean
  readonly lockWaitMs: number
  /** getOrSet's refresh-ahead unless a call says otherwise; undefined: off. */
  readonly refreshAhead: RefreshPolicy | undefined
}

/** Parses the Cache's options; throws for a bad duration. */
export function resolveCacheDefaults(options: CacheOptions): CacheDefaults {
  return {
    ttlMs: parseDuration(options.defaultTtl ?? '5m', 'defaultTtl'),
    graceMs: parseDuration(options.grace ?? 0, 'grace'),
    tags: undefined,
    softTimeoutMs: parseOptionalDuration(options.softTimeout, 'softTimeout'),
    hardTimeoutMs: parseOptionalDuration(options.hardTimeout, 'hardTimeout'),
    lock: options.lock ?? false,
    lockWaitMs: parseDuration(options.lockWait ?? '5s', 'lockWait'),
    refreshAhead: resolveRefreshAhead(options.refreshAhead, 'Cache'),
  }
}

/** A call's TTL, grace and tags, each falling back on the Cache's default; throws for bad input. */
export function resolveWriteSettings(
  options: SetOptions | undefined,
  defaults: CacheDefaults,
): WriteSettings {
  if (options === undefined) return defaults
  const ttlMs = options.ttl === undefined ? defaults.ttlMs : parseDuration(options.ttl, 'ttl')
  const graceMs = options.grace === undefined ? defaults.graceMs : parseDuration(options.grace, 'grace')
  if (options.tags !== undefined) validateTags(options.tags)
  return { ttlMs, graceMs, tags: options.tags }
}
