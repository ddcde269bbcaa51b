import type { CacheCounters } from './cache-counters.ts'
import { type CacheEntry, createEntry, isFresh } from './cache-entry.ts'
import type { CacheStore, InvalidationKind, LoadToken, LockLease } from './cache-store.ts'
import { withDeadline } from './deadline.ts'
import { type Duration, parseDuration } from './duration.ts'
import { CacheTimeoutError } from './errors.ts'
import { globMatcher } from './glob-match.ts'
import { validateTags } from './key-schema.ts'
import type { LoaderSettings } from './loader-settings.ts'
import type { CacheTracing } from './tracing.ts'

/** What a loader sees and can change about how its result is cached. */
export interface LoaderContext<T = unknown> {
  /** The key being loaded. */
  readonly key: string
  /** The previous value when one is still within grace, else undefined. */
  readonly staleValue: T | undefined
  /** TTL for this result, from the options; change it with setTtl. */
  readonly ttlMs: number
  /** Sets this result's TTL (say, from the loaded record's own expiry). */
  setTtl(ttl: Duration): void
  /** Sets this result's tags, replacing those of the options. */
  setTags(tags: readonly string[]): void
  /** Return the result to callers but do not cache it. */
  skipCache(): void
}

/** Computes the value of a key getOrSet did not find; its result (not its error) is cached. */
export type Loader<T> = (ctx: LoaderContext<T>) => T | Promise<T>

export { type LoaderSettings, resolveLoaderSettings } from './loader-settings.ts'

/** What an invalidation touches: keys, a glob, tags, or everything. */
export interface InvalidationScope {
  kind: InvalidationKind
  keys?: readonly string[]
  pattern?: string
  tags?: readonly string[]
}

/** What loader runs need from their Cache: its store, clock and counters, and its store access. */
export interface LoaderHost {
  readonly store: CacheStore
  readonly now: () => number
  readonly counters: CacheCounters
  /** How long a process without the lock waits for the holder's value. */
  readonly lockWaitMs: number
  /** A store read whose failure is a miss (reported as an error). */
  read<T>(key: string): Promise<CacheEntry<T> | undefined>
  /**
   * Writes an entry and counts it; rejects only for bad input. With `load`, it is a loader's result
   * written through the store's `setLoaded` (dropped when the data changed since the load began).
   */
  write(key: string, entry: CacheEntry, ttlMs: number, load?: LoadedWrite): Promise<void>
  /** Told how long each successful loader call took (refresh-ahead's XFetch uses it). */
  loaded?(key: string, durationMs: number): void
  /** The tracing hook, when one is installed: each loader call runs in a `cache.loader` span. */
  tracing?(): CacheTracing | undefined
}

/** A loader's result on its way to the store: the token from `startLoad`, and the lock lease if one is held. */
export interface LoadedWrite {
  token: LoadToken
  lease: LockLease | undefined
}

/** A loader run in flight; `invalidated` is set when the key is invalidated meanwhile, so its result is not written. */
export interface LoaderRun<T> {
  promise: Promise<T>
  invalidated: boolean
  /** Part of a getOrSetMany batch: its promise resolves {@link LEFT_OUT} when the batch loader left the key out. */
  batch?: boolean
}

/** What a batch run of a key resolves when the batch loader left that key out (a miss, nothing cached). */
export const LEFT_OUT: unique symbol = Symbol('strata.leftOut')

/**
 * The single flight of one Cache's getOrSet calls: one store read and one loader run per key at a
 * time, the run's cross-process lock and write-back, and how long each caller waits for it (soft and
 * hard timeouts, grace). An invalidation drops the shared reads and marks the runs it touches.
 */
export class LoaderRuns {
  private readonly reads = new Map<string, Promise<CacheEntry | undefined>>()
  private readonly runs = new Map<string, LoaderRun<unknown>>()

  constructor(private readonly host: LoaderHost) {}

  /**
   * The result of the key's run, starting one when none is in flight. With a `stale` entry at hand,
   * serves it when the loader fails or is slower than the soft (or hard) timeout; without one,
   * rejects with E_LOADER_TIMEOUT after the hard timeout.
   */
  join<T>(
    key: string,
    loader: Loader<T>,
    settings: LoaderSettings,
    stale: CacheEntry<T> | undefined,
  ): Promise<T> {
    const promise = this.result(key, loader, settings, stale)
    return stale !== undefined
      ? this.awaitWithStale(key, promise, stale, settings.softTimeoutMs ?? settings.hardTimeoutMs)
      : this.awaitWithDeadline(key, promise, settings.hardTimeoutMs)
  }

  /** The run in flight for `key`, if any (a getOrSet's, a batch's or a refresh's). */
  running(key: string): LoaderRun<unknown> | undefined {
    return this.runs.get(key)
  }

  /**
   * Starts a background reload of `key`, whose `current` entry a caller was just served fresh
   * (refresh-ahead), unless a run is in flight (then undefined). With the lock, it loads only when it
   * gets the lease and the store holds nothing newer than `current`.
   */
  refresh<T>(
    key: string,
    loader: Loader<T>,
    settings: LoaderSettings,
    current: CacheEntry<T>,
  ): Promise<T> | undefined {
    if (this.runs.has(key)) return undefined
    return this.start(key, loader, settings, current, current).promise
  }

  /** Registers a run someone else settles (a getOrSetMany batch); it leaves when its promise settles. */
  register(key: string, run: LoaderRun<unknown>): void {
    this.runs.set(key, run)
    const forget = () => {
      if (this.runs.get(key) === run) this.runs.delete(key)
    }
    run.promise.then(forget, forget)
  }

  /** The value of the key's run, starting one when none is in flight; a batch that left the key out is followed by our own run. */
  private result<T>(
    key: string,
    loader: Loader<T>,
    settings: LoaderSettings,
    stale: CacheEntry<T> | undefined,
  ): Promise<T> {
    const run = this.runs.get(key) as LoaderRun<T> | undefined
    if (run === undefined) return this.start(key, loader, settings, stale).promise
    if (run.batch !== true) return run.promise
    return (run.promise as Promise<T | typeof LEFT_OUT>).then((value) =>
      value === LEFT_OUT ? this.result(key, loader, settings, stale) : value,
    )
  }

  /** One store read per key at a time (getOrSet stampedes cost one L2 round trip, not thousands). */
  read<T>(key: string): Promise<CacheEntry<T> | undefined> {
    let read = this.reads.get(key)
    if (read === undefined) {
      read = this.host.read(key)
      this.reads.set(key, read)
      const forget = () => {
        if (this.reads.get(key) === read) this.reads.delete(key)
      }
      read.then(forget, forget)
    }
    return read as Promise<CacheEntry<T> | undefined>
  }

  /** Drops every shared read: nothing read before now is served to a later caller. */
  forgetReads(): void {
    this.reads.clear()
  }

  /**
   * Drops the shared reads an invalidation touches (all of them, but for single keys) and marks the
   * running loaders it touches, so that nothing read before it is served or written after it.
   */
  invalidate(scope: InvalidationScope): void {
    if (scope.kind === 'key') for (const key of scope.keys ?? []) this.reads.delete(key)
    else this.reads.clear()
    if (this.runs.size === 0) return
    if (scope.kind === 'key') {
      for (const key of scope.keys ?? []) {
        const run = this.runs.get(key)
        if (run !== undefined) run.invalidated = true
      }
    } else if (scope.kind === 'pattern' && scope.pattern !== undefined) {
      const matches = globMatcher(scope.pattern)
      for (const [key, run] of this.runs) if (matches(key)) run.invalidated = true
    } else {
      // Tags: a running loader may still set one of them from inside, so every run is touched.
      for (const run of this.runs.values()) run.invalidated = true
    }
  }

  /** Starts the one loader run for `key`; it writes its own result when it finishes, even after callers stopped waiting. */
  private start<T>(
    key: string,
    loader: Loader<T>,
    settings: LoaderSettings,
    stale: CacheEntry<T> | undefined,
    refreshing?: CacheEntry<T>,
  ): LoaderRun<T> {
    const run: LoaderRun<T> = { promise: undefined as unknown as Promise<T>, invalidated: false }
    run.promise = this.execute(key, loader, settings, stale, run, refreshing).finally(() => {
      if (this.runs.get(key) === run) this.runs.delete(key)
    })
    // Callers may have stopped waiting (soft/hard timeout): an unobserved failure is not a crash.
    run.promise.catch(() => {})
    this.runs.set(key, run as LoaderRun<unknown>)
    return run
  }

  /** Takes the cross-process lock when asked (or waits for its holder's value), then calls the loader. */
  private async execute<T>(
    key: string,
    loader: Loader<T>,
    settings: LoaderSettings,
    stale: CacheEntry<T> | undefined,
    run: LoaderRun<T>,
    refreshing?: CacheEntry<T>,
  ): Promise<T> {
    const host = this.host
    const lock = settings.lock ? host.store.lock : undefined
    if (lock !== undefined) {
      const lease = await lock
        .acquire(key, settings.hardTimeoutMs ?? Math.max(host.lockWaitMs, 1000))
        .catch((error) => {
          host.counters.error('lock', error, key)
          return null // lock unavailable: load locally
        })
      if (lease === undefined) {
        // Another process is loading (a refresh: it is reloading for us too).
        if (refreshing !== undefined) return refreshing.value
        const entry = await lock.waitFor<T>(key, host.lockWaitMs).catch(() => undefined)
        if (entry !== undefined && isFresh(entry, host.now())) {
          host.counters.hit(key, entry, false)
          return entry.value
        }
      } else if (lease !== null) {
        try {
          // The holder before us may have just written it.
          const entry = await host.read<T>(key)
          const newer =
            refreshing === undefined || (entry !== undefined && entry.createdAt > refreshing.createdAt)
          if (entry !== undefined && isFresh(entry, host.now()) && newer) return entry.value
          return await this.call(key, loader, settings, stale, run, lease)
        } finally {
          await lease.release().catch((error) => host.counters.error('lock', error, key))
        }
      }
    }
    return this.call(key, loader, settings, stale, run)
  }

  /** Calls the loader and writes its result back, unless it declined, the key was invalidated, or the lease was lost. */
  private async call<T>(
    key: string,
    loader: Loader<T>,
    settings: LoaderSettings,
    stale: CacheEntry<T> | undefined,
    run: LoaderRun<T>,
    lease?: LockLease,
  ): Promise<T> {
    const counters = this.host.counters
    const store = this.host.store
    // Before the loader reads anything: a change made after this point makes its result too old.
    const token = store.setLoaded === undefined ? undefined : store.startLoad?.(key)
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
    counters.loaderRuns++
    const started = performance.now()
    let value: T
    const tracing = this.host.tracing?.()
    try {
      value = await (tracing === undefined
        ? loader(ctx)
        : tracing.span('cache.loader', { 'cache.key': key }, async () => loader(ctx)))
    } catch (error) {
      counters.loaderDone(key, started, { error })
      throw error
    }
    counters.loaderDone(key, started)
    this.host.loaded?.(key, performance.now() - started)
    // A store that checks the lease in the write itself needs no separate round trip for it.
    const atomicLease = lease?.fence !== undefined && store.setLoaded !== undefined
    if (!skip && !run.invalidated && (lease === undefined || atomicLease || (await lease.isValid()))) {
      const entry = createEntry(value, ttlMs, settings.graceMs, this.host.now(), tags)
      const load = store.setLoaded === undefined ? undefined : { token, lease }
      await this.host.write(key, entry, ttlMs, load).catch((error) =>
        // The caller still gets its value; the write failure is reported (e.g. unserializable value).
        this.host.counters.error('set', error, key),
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
      this.host.counters.loaderTimeouts++
      return new CacheTimeoutError(
        `getOrSet("${key}"): the loader did not finish within hardTimeout ${hardTimeoutMs} ms`,
        hardTimeoutMs,
        { key },
      )
    })
  }

  /** With a stale value at hand: serve it when the loader fails, or is slower than `limitMs`. */
  private awaitWithStale<T>(
    key: string,
    promise: Promise<T>,
    stale: CacheEntry<T>,
    limitMs: number | undefined,
  ): Promise<T> {
    return new Promise<T>((resolve) => {
      let done = false
      const serveStale = (timedOut: boolean) => {
        if (done) return
        done = true
        if (timedOut) this.host.counters.loaderTimeouts++
        this.host.counters.hit(key, stale, true)
        resolve(stale.value)
      }
      const timer = limitMs === undefined ? undefined : setTimeout(() => serveStale(true), limitMs)
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
}
