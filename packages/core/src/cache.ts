import {
  type BatchHost,
  type BatchLoader,
  CacheBatches,
  type GetOrSetManyOptions,
  type SetManyEntry,
} from './cache-batches.ts'
import { channelsOf } from './cache-channels.ts'
import { CacheCounters, type CacheStats } from './cache-counters.ts'
import { type CacheEntry, createEntry, isFresh, isServable } from './cache-entry.ts'
import { applyInvalidation, emitOperation } from './cache-invalidations.ts'
import {
  CACHE_OPTIONS,
  type CacheDefaults,
  type CacheOptions,
  GET_OR_SET_OPTIONS,
  type GetOptions,
  type GetOrSetOptions,
  resolveCacheDefaults,
  resolveWriteSettings,
  SET_OPTIONS,
  type SetOptions,
  type WrapOptions,
} from './cache-options.ts'
import type { CacheStore, StoreEvent } from './cache-store.ts'
import type { ChannelHandler } from './channels.ts'
import { assertKnownOptions, CacheError, CacheErrorCode, CacheOptionError } from './errors.ts'
import { type CacheEventListener, type CacheEventName, CacheEvents, type CacheOperation } from './events.ts'
import { type HealthReport, healthReport } from './health-report.ts'
import { validateKey, validatePattern, validateTags } from './key-schema.ts'
import { type Loader, LoaderRuns, resolveLoaderSettings } from './loader-run.ts'
import { RefreshAhead } from './refresh-ahead.ts'
import { StoreAccess } from './store-access.ts'
import { tierHealth, tierStats } from './tier-report.ts'
import { type CacheTracing, traced } from './tracing.ts'
import { wrapFunction } from './wrap.ts'

/**
 * The facade every service talks to. It validates input, adds TTL and grace, single-flights
 * loaders, turns store failures into misses and emits typed events; the store does the storing.
 */
export class Cache {
  /** The store this Cache reads and writes (given as option `store`). */
  readonly store: CacheStore
  private readonly events = new CacheEvents()
  private readonly counters: CacheCounters
  private readonly now: () => number
  private readonly defaults: CacheDefaults
  private readonly peek: CacheStore['peek']
  private readonly loads: LoaderRuns
  private readonly access: StoreAccess
  private readonly batches: CacheBatches
  private readonly refresh: RefreshAhead
  private tracing: CacheTracing | undefined
  /** What the helpers in other files (batches, invalidations) share of this Cache. */
  private readonly own: BatchHost
  private readonly unsubscribeStore: (() => void) | undefined
  private closed = false

  constructor(options: CacheOptions) {
    assertKnownOptions('Cache', options, CACHE_OPTIONS)
    if (!options || typeof options.store?.get !== 'function') {
      throw new CacheOptionError('Cache: option "store" is required and must implement CacheStore', {
        option: 'store',
      })
    }
    this.store = options.store
    this.counters = new CacheCounters(this.events, this.store.name)
    this.now = options.now ?? Date.now
    this.defaults = resolveCacheDefaults(options)
    this.peek = typeof this.store.peek === 'function' ? this.store.peek.bind(this.store) : undefined
    const { store, now, counters, events, defaults } = this
    const access = new StoreAccess(store, counters, events)
    this.access = access
    const loads = new LoaderRuns({
      ...{ store, now, counters, lockWaitMs: defaults.lockWaitMs },
      read: (key) => access.read(key),
      write: (key, entry, ttlMs, load) => access.write(key, entry, ttlMs, load),
      loaded: (key, ms) => this.refresh.record(key, ms),
      tracing: () => this.tracing,
    })
    this.loads = loads
    this.refresh = new RefreshAhead({ loads, counters, events, defaults, random: () => Math.random() })
    this.own = { store, now, counters, events, defaults, access, loads, tracing: () => this.tracing }
    this.batches = new CacheBatches(this.own)
    this.unsubscribeStore = this.store.subscribe?.((event) => this.onStoreEvent(event))
  }

  // ---- reads ------------------------------------------------------------------------------------

  /** A fresh value, or undefined. `{ allowStale: true }` also returns a value within grace. */
  get<T>(key: string, options?: GetOptions): Promise<T | undefined> {
    const hit = this.peekFresh<T>(key)
    if (hit !== undefined) return Promise.resolve(hit.value)
    return traced(this.tracing, 'get', key, () => this.getSlow<T>(key, options))
  }

  private async getSlow<T>(key: string, options: GetOptions | undefined): Promise<T | undefined> {
    this.assertOpen()
    validateKey(key)
    const started = this.events.has('operation') ? performance.now() : 0
    const entry = await this.access.read<T>(key)
    const served = this.serve(key, entry, this.now(), options?.allowStale === true)
    if (started !== 0)
      this.emitOperation(
        'get',
        started,
        key,
        served === undefined ? undefined : (served.tier ?? this.store.name),
      )
    return served?.value
  }

  /** Values for many keys in one round trip where the store can; same order as `keys`. */
  getMany<T>(keys: readonly string[], options?: GetOptions): Promise<(T | undefined)[]> {
    return traced(this.tracing, 'getMany', undefined, async () => {
      this.assertOpen()
      if (!Array.isArray(keys))
        throw new CacheError(CacheErrorCode.INVALID_KEY, 'getMany: keys must be an array')
      for (const key of keys) validateKey(key)
      const started = this.events.has('operation') ? performance.now() : 0
      let entries: (CacheEntry<T> | undefined)[]
      try {
        entries = this.store.getMany
          ? await this.store.getMany<T>(keys)
          : await Promise.all(keys.map((key) => this.store.get<T>(key)))
      } catch (error) {
        this.counters.error('getMany', error)
        entries = keys.map(() => undefined)
      }
      const now = this.now()
      const allowStale = options?.allowStale === true
      const values = entries.map((entry, i) => this.serve(keys[i]!, entry, now, allowStale)?.value)
      if (started !== 0) this.emitOperation('getMany', started)
      return values
    })
  }

  /**
   * The cached value, or the loader's result (cached). One loader run per key at a time in this
   * process; concurrent callers share its result or its error. Within grace, a failing loader or
   * one slower than `softTimeout` serves the stale value. `hardTimeout` bounds any caller's wait.
   */
  getOrSet<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions): Promise<T> {
    const hit = this.peekFresh<T>(key)
    if (hit === undefined)
      return traced(this.tracing, 'getOrSet', key, () => this.getOrSetSlow(key, loader, options))
    if (this.defaults.refreshAhead !== undefined || options?.refreshAhead !== undefined)
      this.refresh.onHit(key, hit, this.now(), loader, options)
    return Promise.resolve(hit.value)
  }

  private async getOrSetSlow<T>(
    key: string,
    loader: Loader<T>,
    options: GetOrSetOptions | undefined,
  ): Promise<T> {
    this.assertOpen()
    validateKey(key)
    if (typeof loader !== 'function') {
      throw new CacheOptionError(`getOrSet("${key}"): loader must be a function, got ${typeof loader}`, {
        key,
        option: 'loader',
      })
    }
    if (options !== undefined) assertKnownOptions(`getOrSet("${key}")`, options, GET_OR_SET_OPTIONS)
    const settings = resolveLoaderSettings(key, options, this.defaults)
    if (options?.refreshAhead !== undefined) this.refresh.keepDurations()
    const started = this.events.has('operation') ? performance.now() : 0

    const entry = await this.loads.read<T>(key)
    const now = this.now()
    if (entry !== undefined && isFresh(entry, now)) {
      this.counters.hit(key, entry, false)
      this.refresh.onHit(key, entry, now, loader, options)
      if (started !== 0) this.emitOperation('getOrSet', started, key, entry.tier ?? this.store.name)
      return entry.value
    }
    // A value within grace is counted when (and if) it is served, by the loader run.
    const stale = entry !== undefined && isServable(entry, now) ? entry : undefined
    if (stale === undefined) this.counters.miss(key)
    try {
      return await this.loads.join(key, loader, settings, stale)
    } finally {
      if (started !== 0) this.emitOperation('getOrSet', started, key)
    }
  }

  /**
   * getOrSet for many keys: values in the order of `keys`. One batched read; one loader call for the
   * keys not found (a key already loading is awaited), whose result (a Map or an object) is cached in
   * one batch; a key it leaves out is a miss (undefined, nothing cached).
   */
  getOrSetMany<T>(keys: readonly string[], loader: BatchLoader<T>, options?: GetOrSetManyOptions) {
    this.assertOpen()
    return this.batches.getOrSetMany(keys, loader, options)
  }

  /** A memoised async function: calls with the same key share one cached result. */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R | Promise<R>,
    options: WrapOptions<A>,
  ): (...args: A) => Promise<Awaited<R>> {
    return wrapFunction(this, fn, options)
  }

  /** Sends a JSON `message` to every subscriber of `channel`: across pods with Redis, else in process; resolves once accepted. */
  publish(channel: string, message: unknown): Promise<void> {
    return channelsOf(this.store, this.closed).publish(channel, message)
  }

  /** Runs `handler` for each message on `channel` (at most once); resolves the function that unsubscribes. */
  subscribe<T = unknown>(channel: string, handler: ChannelHandler<T>): Promise<() => void> {
    return channelsOf(this.store, this.closed).subscribe(channel, handler)
  }

  // ---- writes -----------------------------------------------------------------------------------

  /** Stores a value. Rejects only for bad input (key, options, an unserializable or oversized value). */
  set<T>(key: string, value: T, options?: SetOptions): Promise<void> {
    return traced(this.tracing, 'set', key, async () => {
      this.assertOpen()
      validateKey(key)
      if (options !== undefined) assertKnownOptions(`set("${key}")`, options, SET_OPTIONS)
      const { ttlMs, graceMs, tags } = resolveWriteSettings(options, this.defaults)
      const started = this.events.has('operation') ? performance.now() : 0
      this.loads.invalidate({ kind: 'key', keys: [key] })
      await this.access.write(key, createEntry(value, ttlMs, graceMs, this.now(), tags), ttlMs)
      if (started !== 0) this.emitOperation('set', started, key)
    })
  }

  /** Writes many entries in one batch where the store can (one round trip, one notice to the other pods). */
  setMany(entries: readonly SetManyEntry[], options?: SetOptions): Promise<void> {
    this.assertOpen()
    return this.batches.setMany(entries, options)
  }

  /** Removes many keys in one batch where the store can; resolves how many the authoritative tier had. */
  deleteMany(keys: readonly string[]): Promise<number> {
    this.assertOpen()
    return this.batches.deleteMany(keys)
  }

  /** Removes one key; resolves whether the authoritative tier had it. */
  delete(key: string): Promise<boolean> {
    return traced(this.tracing, 'delete', key, async () => {
      this.assertOpen()
      validateKey(key)
      const started = this.events.has('operation') ? performance.now() : 0
      this.loads.invalidate({ kind: 'key', keys: [key] })
      let deleted = false
      try {
        deleted = await this.store.delete(key)
      } catch (error) {
        this.counters.error('delete', error, key)
      }
      this.counters.deletes++
      if (this.events.has('delete')) this.events.emit('delete', { key, deleted })
      if (this.events.has('invalidate'))
        this.events.emit('invalidate', { kind: 'key', source: 'local', keys: [key], count: deleted ? 1 : 0 })
      if (started !== 0) this.emitOperation('delete', started, key)
      return deleted
    })
  }

  /** Removes every key matching a glob (`*`, `?`); resolves how many the authoritative tier removed. */
  async invalidate(pattern: string): Promise<number> {
    this.assertOpen()
    validatePattern(pattern)
    return applyInvalidation(this.own, 'invalidate', { kind: 'pattern', pattern }, () =>
      this.store.deletePattern(pattern),
    )
  }

  /** Removes every entry carrying any of the tags; resolves how many the authoritative tier removed. */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    this.assertOpen()
    validateTags(tags)
    return applyInvalidation(this.own, 'invalidateTags', { kind: 'tags', tags }, () =>
      tags.length === 0 ? Promise.resolve(0) : this.store.deleteTags(tags),
    )
  }

  /** Removes every entry of this cache's store (its own prefix only). */
  async clear(): Promise<void> {
    this.assertOpen()
    await applyInvalidation(this.own, 'clear', { kind: 'clear' }, async () => {
      await this.store.clear()
      return 0
    })
  }

  // ---- observing --------------------------------------------------------------------------------

  /** Installs a tracing hook (see CacheTracing; openTelemetryMetrics installs one); returns the function that removes it. */
  trace(tracing: CacheTracing): () => void {
    this.tracing = tracing
    this.store.trace?.(tracing.storeSpans === true ? tracing : undefined)
    return () => {
      if (this.tracing !== tracing) return
      this.tracing = undefined
      this.store.trace?.(undefined)
    }
  }

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): () => void {
    return this.events.on(event, listener)
  }

  /** Counters since creation, and the figures each tier reports. */
  async stats(): Promise<CacheStats> {
    return this.counters.snapshot(await tierStats(this.store))
  }

  /** `up` when every tier answers, `degraded` when only optional tiers (L2, bus) are down, else `down`. */
  async health(): Promise<HealthReport> {
    if (this.closed)
      return { status: 'down', checks: [{ tier: this.store.name, status: 'down', message: 'closed' }] }
    return healthReport(await tierHealth(this.store))
  }

  /** Closes the store and drops every listener. Later calls reject with E_CLOSED. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.unsubscribeStore?.()
    try {
      await this.store.close()
    } finally {
      this.events.removeAll()
    }
  }

  // ---- internals --------------------------------------------------------------------------------

  /**
   * The L1 fast path of get and getOrSet: a fresh entry the in-process tier holds, counted as a hit;
   * else undefined, and the caller takes its async path. The key is not validated here: only
   * validated keys are ever written through a Cache, so a hit proves the key valid; a miss
   * validates before any I/O.
   */
  private peekFresh<T>(key: string): CacheEntry<T> | undefined {
    const peek = this.peek
    if (peek === undefined || typeof key !== 'string') return undefined
    const now = this.now()
    const entry = peek<T>(key, now)
    if (entry === undefined || !isFresh(entry, now)) return undefined
    this.counters.hit(key, entry, false)
    return entry
  }

  /**
   * The one freshness rule of a read: a fresh entry is a hit, one within grace a stale hit when the
   * caller allows it, anything else a miss. Returns the entry served.
   */
  private serve<T>(
    key: string,
    entry: CacheEntry<T> | undefined,
    now: number,
    allowStale: boolean,
  ): CacheEntry<T> | undefined {
    if (entry !== undefined) {
      const fresh = isFresh(entry, now)
      if (fresh || (allowStale && isServable(entry, now))) {
        this.counters.hit(key, entry, !fresh)
        return entry
      }
    }
    this.counters.miss(key)
    return undefined
  }

  /** `tier` is the tier that answered a read hit; left out for writes and misses (they touch every tier). */
  private emitOperation(operation: CacheOperation, started: number, key?: string, tier?: string): void {
    emitOperation(this.events, operation, started, key, tier)
  }

  /** Relays what the store raised by itself; another pod's invalidation (or a bus outage) also drops shared reads. */
  private onStoreEvent(event: StoreEvent): void {
    // An event may stand for several failures (repeats reported together, see `count`).
    if (event.type === 'error') this.counters.errors += event.count ?? 1
    // Another pod invalidated: a shared read or a load started before it must not be served or written.
    else if (event.type === 'invalidate') this.loads.invalidate(event)
    // Invalidations may have been missed while the bus was down.
    else if (event.type === 'bus' && event.state !== 'connected') this.loads.forgetReads()
    this.events.relay(event)
  }

  private assertOpen(): void {
    if (this.closed) throw new CacheError(CacheErrorCode.CLOSED, 'the cache is closed')
  }
}
