import { type CacheEntry, createEntry } from './cache-entry.ts'
import type { CacheStore, InvalidationKind, StoreEvent, TierHealth, TierStats } from './cache-store.ts'
import { withDeadline } from './deadline.ts'
import { type Duration, parseDuration } from './duration.ts'
import {
  assertKnownOptions,
  CacheError,
  CacheErrorCode,
  CacheOptionError,
  CacheTimeoutError,
} from './errors.ts'
import {
  type CacheEventListener,
  type CacheEventMap,
  type CacheEventName,
  CacheEvents,
  type CacheOperation,
} from './events.ts'
import { globMatcher, validateKey, validatePattern, validateTags } from './key-schema.ts'

export interface CacheOptions {
  /** Where entries live: a MemoryStore, a RedisStore, a TieredStore, or your own. */
  store: CacheStore
  /** How long a value stays fresh when a call gives no `ttl`. @default '5m' */
  defaultTtl?: Duration
  /** How long past its TTL a value may still be served by getOrSet when the loader fails or is slow. @default 0 */
  grace?: Duration
  /** Default getOrSet soft timeout: with a stale value at hand, serve it after this long and let the loader finish in the background. */
  softTimeout?: Duration
  /** Default getOrSet hard timeout: no caller waits longer for a loader than this. */
  hardTimeout?: Duration
  /** Default for getOrSet `lock`: one loader per key across every process (needs a store with `lock`). @default false */
  lock?: boolean
  /** How long a process without the lock waits for the holder's value before loading itself. @default '5s' */
  lockWait?: Duration
  /** Clock, epoch ms. Inject one in tests. @default Date.now */
  now?: () => number
}

export interface SetOptions {
  ttl?: Duration
  grace?: Duration
  tags?: readonly string[]
}

export interface GetOptions {
  /** Also return a value past its TTL but within grace. @default false */
  allowStale?: boolean
}

export interface GetOrSetOptions extends SetOptions {
  softTimeout?: Duration
  hardTimeout?: Duration
  lock?: boolean
}

/** What a loader sees and can change about how its result is cached. */
export interface LoaderContext<T = unknown> {
  readonly key: string
  /** The previous value when one is still within grace, else undefined. */
  readonly staleValue: T | undefined
  /** TTL for this result, from the options; change it with setTtl. */
  readonly ttlMs: number
  setTtl(ttl: Duration): void
  setTags(tags: readonly string[]): void
  /** Return the result to callers but do not cache it. */
  skipCache(): void
}

export type Loader<T> = (ctx: LoaderContext<T>) => T | Promise<T>

export interface WrapOptions<A extends unknown[]> extends GetOrSetOptions {
  /** Builds the cache key from the call's arguments; use a defineKey builder and hashParams. */
  key: (...args: A) => string
}

export interface CacheStats {
  hits: number
  /** Of the hits, how many were served stale within grace. */
  staleHits: number
  misses: number
  /** hits / (hits + misses), from 0 to 1; 0 before any read. */
  hitRate: number
  sets: number
  deletes: number
  invalidations: number
  /** Errors absorbed or passed on (store failures, corrupt entries, loader failures). */
  errors: number
  loader: { runs: number; errors: number; timeouts: number }
  /** Hits per tier name. */
  hitsByTier: Record<string, number>
  tiers: TierStats[]
}

export type HealthStatus = 'up' | 'degraded' | 'down'

export interface HealthReport {
  status: HealthStatus
  checks: TierHealth[]
}

const CACHE_OPTIONS = [
  'store',
  'defaultTtl',
  'grace',
  'softTimeout',
  'hardTimeout',
  'lock',
  'lockWait',
  'now',
] as const
const SET_OPTIONS = ['ttl', 'grace', 'tags'] as const
const GET_OR_SET_OPTIONS = [...SET_OPTIONS, 'softTimeout', 'hardTimeout', 'lock'] as const
const WRAP_OPTIONS = [...GET_OR_SET_OPTIONS, 'key'] as const

/** What an invalidation touches: keys, a glob, tags, or everything. */
interface InvalidationScope {
  kind: InvalidationKind
  keys?: readonly string[]
  pattern?: string
  tags?: readonly string[]
}

/** A loader run in flight; `invalidated` is set when the key is invalidated meanwhile, so its result is not written. */
interface LoadRun<T> {
  promise: Promise<T>
  invalidated: boolean
}

/**
 * The facade every service talks to. It validates input, adds TTL and grace, single-flights
 * loaders, turns store failures into misses and emits typed events; the store does the storing.
 */
export class Cache {
  readonly store: CacheStore
  private readonly events = new CacheEvents()
  private readonly now: () => number
  private readonly defaultTtlMs: number
  private readonly graceMs: number
  private readonly softTimeoutMs: number | undefined
  private readonly hardTimeoutMs: number | undefined
  private readonly lockByDefault: boolean
  private readonly lockWaitMs: number
  private readonly peek: CacheStore['peek']
  private readonly reads = new Map<string, Promise<CacheEntry | undefined>>()
  private readonly loads = new Map<string, LoadRun<unknown>>()
  private readonly unsubscribeStore: (() => void) | undefined
  private closed = false
  private readonly counters = {
    hits: 0,
    staleHits: 0,
    misses: 0,
    sets: 0,
    deletes: 0,
    invalidations: 0,
    errors: 0,
    loaderRuns: 0,
    loaderErrors: 0,
    loaderTimeouts: 0,
  }
  // Hits per tier, with the last tier's counter at hand: consecutive hits mostly come from one tier.
  private readonly tierHits = new Map<string, { n: number }>()
  private lastTier = ''
  private lastTierHits = { n: 0 }

  constructor(options: CacheOptions) {
    assertKnownOptions('Cache', options, CACHE_OPTIONS)
    if (!options || typeof options.store?.get !== 'function') {
      throw new CacheOptionError('Cache: option "store" is required and must implement CacheStore', {
        option: 'store',
      })
    }
    this.store = options.store
    this.now = options.now ?? Date.now
    this.defaultTtlMs = parseDuration(options.defaultTtl ?? '5m', 'defaultTtl')
    this.graceMs = parseDuration(options.grace ?? 0, 'grace')
    this.softTimeoutMs =
      options.softTimeout === undefined ? undefined : parseDuration(options.softTimeout, 'softTimeout')
    this.hardTimeoutMs =
      options.hardTimeout === undefined ? undefined : parseDuration(options.hardTimeout, 'hardTimeout')
    this.lockByDefault = options.lock ?? false
    this.lockWaitMs = parseDuration(options.lockWait ?? '5s', 'lockWait')
    this.peek = typeof this.store.peek === 'function' ? this.store.peek.bind(this.store) : undefined
    this.unsubscribeStore = this.store.subscribe?.((event) => this.onStoreEvent(event))
  }

  // ---- reads ------------------------------------------------------------------------------------

  /** A fresh value, or undefined. `{ allowStale: true }` also returns a value within grace. */
  get<T>(key: string, options?: GetOptions): Promise<T | undefined> {
    // L1 fast path. The key is not validated here: only validated keys are ever written through a
    // Cache, so a hit proves the key valid; a miss validates before any I/O below.
    const peek = this.peek
    if (peek !== undefined && typeof key === 'string') {
      const now = this.now()
      const entry = peek<T>(key, now)
      if (entry !== undefined && now < entry.expiresAt) {
        this.recordHit(key, entry, false)
        return Promise.resolve(entry.value)
      }
    }
    return this.getSlow<T>(key, options)
  }

  private async getSlow<T>(key: string, options: GetOptions | undefined): Promise<T | undefined> {
    this.assertOpen()
    validateKey(key)
    const started = this.events.has('operation') ? performance.now() : 0
    const entry = await this.readStore<T>(key)
    const now = this.now()
    let result: T | undefined
    if (entry !== undefined && now < entry.expiresAt) {
      this.recordHit(key, entry, false)
      result = entry.value
    } else if (entry !== undefined && options?.allowStale === true && now < entry.staleUntil) {
      this.recordHit(key, entry, true)
      result = entry.value
    } else {
      this.recordMiss(key)
    }
    if (started !== 0)
      this.emitOperation(
        'get',
        started,
        key,
        result === undefined ? undefined : (entry?.tier ?? this.store.name),
      )
    return result
  }

  /** Values for many keys in one round trip where the store can; same order as `keys`. */
  async getMany<T>(keys: readonly string[], options?: GetOptions): Promise<(T | undefined)[]> {
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
      this.reportError('getMany', error)
      entries = keys.map(() => undefined)
    }
    const now = this.now()
    const allowStale = options?.allowStale === true
    const values = entries.map((entry, i) => {
      const key = keys[i]!
      if (entry !== undefined && now < entry.expiresAt) {
        this.recordHit(key, entry, false)
        return entry.value
      }
      if (entry !== undefined && allowStale && now < entry.staleUntil) {
        this.recordHit(key, entry, true)
        return entry.value
      }
      this.recordMiss(key)
      return undefined
    })
    if (started !== 0) this.emitOperation('getMany', started)
    return values
  }

  /**
   * The cached value, or the loader's result (cached). One loader run per key at a time in this
   * process; concurrent callers share its result or its error. Within grace, a failing loader or
   * one slower than `softTimeout` serves the stale value. `hardTimeout` bounds any caller's wait.
   */
  getOrSet<T>(key: string, loader: Loader<T>, options?: GetOrSetOptions): Promise<T> {
    const peek = this.peek
    if (peek !== undefined && typeof key === 'string') {
      const now = this.now()
      const entry = peek<T>(key, now)
      if (entry !== undefined && now < entry.expiresAt) {
        this.recordHit(key, entry, false)
        return Promise.resolve(entry.value)
      }
    }
    return this.getOrSetSlow(key, loader, options)
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
    const settings = this.resolveLoadSettings(key, options)
    const started = this.events.has('operation') ? performance.now() : 0

    const entry = await this.readShared<T>(key)
    const now = this.now()
    if (entry !== undefined && now < entry.expiresAt) {
      this.recordHit(key, entry, false)
      if (started !== 0) this.emitOperation('getOrSet', started, key, entry.tier ?? this.store.name)
      return entry.value
    }
    const stale = entry !== undefined && now < entry.staleUntil ? entry : undefined
    if (stale === undefined) this.recordMiss(key)

    let run = this.loads.get(key) as LoadRun<T> | undefined
    if (run === undefined) run = this.startLoad(key, loader, settings, stale)
    try {
      return stale !== undefined
        ? await this.awaitWithStale(key, run.promise, stale, settings.softTimeoutMs, settings.hardTimeoutMs)
        : await this.awaitWithDeadline(key, run.promise, settings.hardTimeoutMs)
    } finally {
      if (started !== 0) this.emitOperation('getOrSet', started, key)
    }
  }

  /** A memoised async function: calls with the same key share one cached result. */
  wrap<A extends unknown[], R>(
    fn: (...args: A) => R | Promise<R>,
    options: WrapOptions<A>,
  ): (...args: A) => Promise<Awaited<R>> {
    assertKnownOptions('wrap', options, WRAP_OPTIONS)
    if (typeof fn !== 'function') throw new CacheOptionError('wrap: the first argument must be a function')
    if (typeof options?.key !== 'function') {
      throw new CacheOptionError(
        'wrap: option "key" must be a function building the cache key from the arguments',
        {
          option: 'key',
        },
      )
    }
    const { key: keyOf, ...rest } = options
    const getOrSetOptions = Object.keys(rest).length > 0 ? rest : undefined
    return (...args: A) =>
      this.getOrSet<Awaited<R>>(
        keyOf(...args),
        () => Promise.resolve(fn(...args)) as Promise<Awaited<R>>,
        getOrSetOptions,
      )
  }

  // ---- writes -----------------------------------------------------------------------------------

  /** Stores a value. Rejects only for bad input (key, options, an unserializable or oversized value). */
  async set<T>(key: string, value: T, options?: SetOptions): Promise<void> {
    this.assertOpen()
    validateKey(key)
    if (options !== undefined) assertKnownOptions(`set("${key}")`, options, SET_OPTIONS)
    const ttlMs = options?.ttl === undefined ? this.defaultTtlMs : parseDuration(options.ttl, 'ttl')
    const graceMs = options?.grace === undefined ? this.graceMs : parseDuration(options.grace, 'grace')
    if (options?.tags !== undefined) validateTags(options.tags)
    const started = this.events.has('operation') ? performance.now() : 0
    this.forgetReads(key)
    this.markLoadsInvalidated({ kind: 'key', keys: [key] })
    await this.writeStore(key, createEntry(value, ttlMs, graceMs, this.now(), options?.tags), ttlMs)
    if (started !== 0) this.emitOperation('set', started, key)
  }

  /** Removes one key; resolves whether the authoritative tier had it. */
  async delete(key: string): Promise<boolean> {
    this.assertOpen()
    validateKey(key)
    const started = this.events.has('operation') ? performance.now() : 0
    this.forgetReads(key)
    this.markLoadsInvalidated({ kind: 'key', keys: [key] })
    let deleted = false
    try {
      deleted = await this.store.delete(key)
    } catch (error) {
      this.reportError('delete', error, key)
    }
    this.counters.deletes++
    if (this.events.has('delete')) this.events.emit('delete', { key, deleted })
    if (this.events.has('invalidate'))
      this.events.emit('invalidate', { kind: 'key', source: 'local', keys: [key], count: deleted ? 1 : 0 })
    if (started !== 0) this.emitOperation('delete', started, key)
    return deleted
  }

  /** Removes every key matching a glob (`*`, `?`); resolves how many the authoritative tier removed. */
  async invalidate(pattern: string): Promise<number> {
    this.assertOpen()
    validatePattern(pattern)
    return this.applyInvalidation('invalidate', { kind: 'pattern', pattern }, () =>
      this.store.deletePattern(pattern),
    )
  }

  /** Removes every entry carrying any of the tags; resolves how many the authoritative tier removed. */
  async invalidateTags(tags: readonly string[]): Promise<number> {
    this.assertOpen()
    validateTags(tags)
    return this.applyInvalidation('invalidateTags', { kind: 'tags', tags }, () =>
      tags.length === 0 ? Promise.resolve(0) : this.store.deleteTags(tags),
    )
  }

  /** Removes every entry of this cache's store (its own prefix only). */
  async clear(): Promise<void> {
    this.assertOpen()
    await this.applyInvalidation('clear', { kind: 'clear' }, async () => {
      await this.store.clear()
      return 0
    })
  }

  // ---- observing --------------------------------------------------------------------------------

  /** Subscribes to an event; returns the function that unsubscribes. */
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): () => void {
    return this.events.on(event, listener)
  }

  /** Counters since creation, and the figures each tier reports. */
  async stats(): Promise<CacheStats> {
    const c = this.counters
    const reads = c.hits + c.misses
    let tiers: TierStats[] = []
    try {
      tiers = (await this.store.stats?.()) ?? [{ tier: this.store.name, available: true }]
    } catch (error) {
      tiers = [{ tier: this.store.name, available: false, details: { error: String(error) } }]
    }
    return {
      hits: c.hits,
      staleHits: c.staleHits,
      misses: c.misses,
      hitRate: reads === 0 ? 0 : c.hits / reads,
      sets: c.sets,
      deletes: c.deletes,
      invalidations: c.invalidations,
      errors: c.errors,
      loader: { runs: c.loaderRuns, errors: c.loaderErrors, timeouts: c.loaderTimeouts },
      hitsByTier: Object.fromEntries([...this.tierHits].map(([tier, counter]) => [tier, counter.n])),
      tiers,
    }
  }

  /** `up` when every tier answers, `degraded` when only optional tiers (L2, bus) are down, else `down`. */
  async health(): Promise<HealthReport> {
    if (this.closed)
      return { status: 'down', checks: [{ tier: this.store.name, status: 'down', message: 'closed' }] }
    let checks: TierHealth[]
    try {
      checks = (await this.store.health?.()) ?? [{ tier: this.store.name, status: 'up' }]
    } catch (error) {
      checks = [{ tier: this.store.name, status: 'down', message: String(error) }]
    }
    const down = checks.filter((c) => c.status === 'down')
    const status: HealthStatus =
      down.length === 0 ? 'up' : down.every((c) => c.optional === true) ? 'degraded' : 'down'
    return { status, checks }
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
   * The one path of every local invalidation: shared reads and running loaders it touches are
   * dropped first (so nothing read before it is served or written after it), then the store removes.
   */
  private async applyInvalidation(
    operation: 'invalidate' | 'invalidateTags' | 'clear',
    scope: InvalidationScope,
    remove: () => Promise<number>,
  ): Promise<number> {
    const started = this.events.has('operation') ? performance.now() : 0
    this.forgetReads()
    this.markLoadsInvalidated(scope)
    let count = 0
    try {
      count = await remove()
    } catch (error) {
      this.reportError(operation, error)
    }
    this.counters.invalidations++
    if (this.events.has('invalidate')) {
      this.events.emit(
        'invalidate',
        scope.kind === 'clear' ? { ...scope, source: 'local' } : { ...scope, source: 'local', count },
      )
    }
    if (started !== 0) this.emitOperation(operation, started)
    return count
  }

  private resolveLoadSettings(key: string, options: GetOrSetOptions | undefined) {
    const soft = options?.softTimeout
    const hard = options?.hardTimeout
    if (options?.tags !== undefined) validateTags(options.tags)
    const settings = {
      ttlMs: options?.ttl === undefined ? this.defaultTtlMs : parseDuration(options.ttl, 'ttl'),
      graceMs: options?.grace === undefined ? this.graceMs : parseDuration(options.grace, 'grace'),
      softTimeoutMs: soft === undefined ? this.softTimeoutMs : parseDuration(soft, 'softTimeout'),
      hardTimeoutMs: hard === undefined ? this.hardTimeoutMs : parseDuration(hard, 'hardTimeout'),
      lock: options?.lock ?? this.lockByDefault,
      tags: options?.tags,
    }
    if (
      settings.softTimeoutMs !== undefined &&
      settings.hardTimeoutMs !== undefined &&
      settings.softTimeoutMs > settings.hardTimeoutMs
    ) {
      throw new CacheOptionError(
        `getOrSet("${key}"): softTimeout (${settings.softTimeoutMs} ms) is longer than hardTimeout (${settings.hardTimeoutMs} ms)`,
        { key, option: 'softTimeout' },
      )
    }
    return settings
  }

  /** Starts the one loader run for `key`; it writes its own result when it finishes, even after callers stopped waiting. */
  private startLoad<T>(
    key: string,
    loader: Loader<T>,
    settings: ReturnType<Cache['resolveLoadSettings']>,
    stale: CacheEntry<T> | undefined,
  ): LoadRun<T> {
    const run: LoadRun<T> = { promise: undefined as unknown as Promise<T>, invalidated: false }
    run.promise = this.runLoader(key, loader, settings, stale, run).finally(() => {
      if (this.loads.get(key) === run) this.loads.delete(key)
    })
    // Callers may have stopped waiting (soft/hard timeout): an unobserved failure is not a crash.
    run.promise.catch(() => {})
    this.loads.set(key, run as LoadRun<unknown>)
    return run
  }

  private async runLoader<T>(
    key: string,
    loader: Loader<T>,
    settings: ReturnType<Cache['resolveLoadSettings']>,
    stale: CacheEntry<T> | undefined,
    run: LoadRun<T>,
  ): Promise<T> {
    const lock = settings.lock ? this.store.lock : undefined
    if (lock !== undefined) {
      const lease = await lock
        .acquire(key, settings.hardTimeoutMs ?? Math.max(this.lockWaitMs, 1000))
        .catch((error) => {
          this.reportError('lock', error, key)
          return null // lock unavailable: load locally
        })
      if (lease === undefined) {
        // Another process is loading: wait for its value.
        const entry = await lock.waitFor<T>(key, this.lockWaitMs).catch(() => undefined)
        if (entry !== undefined && this.now() < entry.expiresAt) {
          this.recordHit(key, entry, false)
          return entry.value
        }
      } else if (lease !== null) {
        try {
          // The holder before us may have just written it.
          const entry = await this.readStore<T>(key)
          if (entry !== undefined && this.now() < entry.expiresAt) return entry.value
          return await this.callLoader(key, loader, settings, stale, run, () => lease.isValid())
        } finally {
          await lease.release().catch((error) => this.reportError('lock', error, key))
        }
      }
    }
    return this.callLoader(key, loader, settings, stale, run)
  }

  private async callLoader<T>(
    key: string,
    loader: Loader<T>,
    settings: ReturnType<Cache['resolveLoadSettings']>,
    stale: CacheEntry<T> | undefined,
    run: LoadRun<T>,
    stillOwner?: () => Promise<boolean>,
  ): Promise<T> {
    let ttlMs = settings.ttlMs
    let tags = settings.tags
    let skip = false
    const ctx: LoaderContext<T> = {
      key,
      staleValue: stale?.value,
      get ttlMs() {
        return ttlMs
      },
      setTtl(ttl) {
        ttlMs = parseDuration(ttl, 'ttl')
      },
      setTags(next) {
        validateTags(next)
        tags = next
      },
      skipCache() {
        skip = true
      },
    }
    this.counters.loaderRuns++
    const started = performance.now()
    let value: T
    try {
      value = await loader(ctx)
    } catch (error) {
      this.counters.loaderErrors++
      this.counters.errors++
      if (this.events.has('loader'))
        this.events.emit('loader', { key, durationMs: performance.now() - started, ok: false, error })
      throw error
    }
    if (this.events.has('loader'))
      this.events.emit('loader', { key, durationMs: performance.now() - started, ok: true })
    if (!skip && !run.invalidated && (stillOwner === undefined || (await stillOwner()))) {
      await this.writeStore(key, createEntry(value, ttlMs, settings.graceMs, this.now(), tags), ttlMs).catch(
        (error) =>
          // The caller still gets its value; the write failure is reported (e.g. unserializable value).
          this.reportError('set', error, key),
      )
    }
    return value
  }

  private awaitWithDeadline<T>(
    key: string,
    promise: Promise<T>,
    hardTimeoutMs: number | undefined,
  ): Promise<T> {
    if (hardTimeoutMs === undefined) return promise
    return withDeadline(promise, hardTimeoutMs, () => {
      this.counters.loaderTimeouts++
      return new CacheTimeoutError(
        `getOrSet("${key}"): the loader did not finish within hardTimeout ${hardTimeoutMs} ms`,
        hardTimeoutMs,
        { key },
      )
    })
  }

  /** With a stale value at hand: serve it when the loader fails, or is slower than the soft (or hard) timeout. */
  private awaitWithStale<T>(
    key: string,
    promise: Promise<T>,
    stale: CacheEntry<T>,
    softTimeoutMs: number | undefined,
    hardTimeoutMs: number | undefined,
  ): Promise<T> {
    const limit = softTimeoutMs ?? hardTimeoutMs
    return new Promise<T>((resolve) => {
      let done = false
      const serveStale = (timedOut: boolean) => {
        if (done) return
        done = true
        if (timedOut) this.counters.loaderTimeouts++
        this.recordHit(key, stale, true)
        resolve(stale.value)
      }
      const timer = limit === undefined ? undefined : setTimeout(() => serveStale(true), limit)
      promise.then(
        (value) => {
          if (timer !== undefined) clearTimeout(timer)
          if (done) return
          done = true
          resolve(value)
        },
        () => {
          if (timer !== undefined) clearTimeout(timer)
          serveStale(false)
        },
      )
    })
  }

  /** One store read per key at a time (getOrSet stampedes cost one L2 round trip, not thousands). */
  private readShared<T>(key: string): Promise<CacheEntry<T> | undefined> {
    let read = this.reads.get(key)
    if (read === undefined) {
      read = this.readStore(key)
      this.reads.set(key, read)
      const forget = () => {
        if (this.reads.get(key) === read) this.reads.delete(key)
      }
      read.then(forget, forget)
    }
    return read as Promise<CacheEntry<T> | undefined>
  }

  /** A store read whose failure is a miss, reported as an error event. */
  private async readStore<T>(key: string): Promise<CacheEntry<T> | undefined> {
    try {
      return await this.store.get<T>(key)
    } catch (error) {
      this.reportError('get', error, key)
      return undefined
    }
  }

  private async writeStore(key: string, entry: CacheEntry, ttlMs: number): Promise<void> {
    try {
      await this.store.set(key, entry)
    } catch (error) {
      // Bad input is the caller's to fix; anything else (a sick L2) never reaches the caller.
      if (isInputError(error)) throw error
      this.reportError('set', error, key)
      return
    }
    this.counters.sets++
    if (this.events.has('set'))
      this.events.emit('set', entry.tags ? { key, ttlMs, tags: entry.tags } : { key, ttlMs })
  }

  private forgetReads(key?: string): void {
    if (key === undefined) this.reads.clear()
    else this.reads.delete(key)
  }

  /** Marks the running loaders an invalidation touches, so their results are not written. */
  private markLoadsInvalidated(scope: InvalidationScope): void {
    if (this.loads.size === 0) return
    if (scope.kind === 'key') {
      for (const key of scope.keys ?? []) {
        const run = this.loads.get(key)
        if (run !== undefined) run.invalidated = true
      }
    } else if (scope.kind === 'pattern' && scope.pattern !== undefined) {
      const matches = globMatcher(scope.pattern)
      for (const [key, run] of this.loads) if (matches(key)) run.invalidated = true
    } else {
      // Tags: a running loader may still set one of them from inside, so every run is touched.
      for (const run of this.loads.values()) run.invalidated = true
    }
  }

  private recordHit(key: string, entry: CacheEntry, stale: boolean): void {
    this.counters.hits++
    if (stale) this.counters.staleHits++
    const tier = entry.tier ?? this.store.name
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

  private recordMiss(key: string): void {
    this.counters.misses++
    if (this.events.has('miss')) this.events.emit('miss', { key })
  }

  private reportError(operation: string, error: unknown, key?: string): void {
    this.counters.errors++
    if (this.events.has('error')) {
      const tier = (error as { tier?: unknown })?.tier
      this.events.emit('error', {
        operation,
        tier: typeof tier === 'string' ? tier : this.store.name,
        error,
        ...(key === undefined ? {} : { key }),
      })
    }
  }

  /** `tier` is the tier that answered a read hit; left out for writes and misses (they touch every tier). */
  private emitOperation(operation: CacheOperation, started: number, key?: string, tier?: string): void {
    const event: CacheEventMap['operation'] = { operation, durationMs: performance.now() - started }
    if (key !== undefined) event.key = key
    if (tier !== undefined) event.tier = tier
    this.events.emit('operation', event)
  }

  private onStoreEvent(event: StoreEvent): void {
    switch (event.type) {
      case 'error':
        this.counters.errors++
        if (this.events.has('error')) {
          const { type: _, ...payload } = event
          this.events.emit('error', payload)
        }
        return
      case 'breaker':
        if (this.events.has('breaker'))
          this.events.emit('breaker', { tier: event.tier, state: event.state, previous: event.previous })
        return
      case 'bus': {
        if (event.state !== 'connected') this.forgetReads()
        if (this.events.has('bus')) {
          const { type: _, ...payload } = event
          this.events.emit('bus', payload)
        }
        return
      }
      case 'invalidate': {
        // Another pod invalidated: a shared read or a load started before it must not be served or written.
        this.forgetReads()
        this.markLoadsInvalidated(event)
        if (this.events.has('invalidate')) {
          const { type: _, ...payload } = event
          this.events.emit('invalidate', payload)
        }
        return
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new CacheError(CacheErrorCode.CLOSED, 'the cache is closed')
  }
}

const INPUT_ERROR_CODES: ReadonlySet<string> = new Set([
  CacheErrorCode.INVALID_KEY,
  CacheErrorCode.INVALID_PATTERN,
  CacheErrorCode.INVALID_DURATION,
  CacheErrorCode.INVALID_OPTION,
  CacheErrorCode.SERIALIZATION,
  CacheErrorCode.VALUE_TOO_LARGE,
  CacheErrorCode.CLOSED,
])

function isInputError(error: unknown): boolean {
  return CacheError.is(error) && INPUT_ERROR_CODES.has(error.code)
}
