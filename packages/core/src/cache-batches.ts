import type { CacheCounters } from './cache-counters.ts'
import { type CacheEntry, createEntry, isFresh, isServable } from './cache-entry.ts'
import {
  type CacheDefaults,
  resolveWriteSettings,
  SET_OPTIONS,
  type SetOptions,
  type WriteSettings,
} from './cache-options.ts'
import type { CacheStore, LoadToken } from './cache-store.ts'
import type { Duration } from './duration.ts'
import { assertKnownOptions, CacheError, CacheErrorCode, CacheOptionError, isInputError } from './errors.ts'
import type { CacheEvents } from './events.ts'
import { validateKey } from './key-schema.ts'
import { LEFT_OUT, type LoaderRun, type LoaderRuns } from './loader-run.ts'
import type { StoreAccess } from './store-access.ts'
import { type CacheTracing, traced } from './tracing.ts'

/** One entry of `Cache.setMany`: its key and value, and optionally its own TTL and tags. */
export interface SetManyEntry<T = unknown> {
  /** The key, validated like any other. */
  key: string
  /** The value; rules as for `set`. */
  value: T
  /** This entry's TTL. @default the call's `ttl`, else the Cache's `defaultTtl` */
  ttl?: Duration
  /** This entry's tags, replacing the call's. @default the call's `tags` */
  tags?: readonly string[]
}

/**
 * What `getOrSetMany` calls with the keys it did not find (each once, in first-seen order): their
 * values as a Map or a plain object keyed by key. A key left out (or undefined) is a miss: nothing
 * is cached for it.
 */
export type BatchLoader<T> = (
  missing: string[],
) => Map<string, T> | Record<string, T> | Promise<Map<string, T> | Record<string, T>>

/** Options of `getOrSetMany`: TTL, grace and tags of every entry it caches. */
export type GetOrSetManyOptions = SetOptions

const ENTRY_FIELDS = ['key', 'value', 'ttl', 'tags'] as const

/** What the batch operations need of their Cache. */
export interface BatchHost {
  readonly store: CacheStore
  readonly loads: LoaderRuns
  readonly counters: CacheCounters
  readonly events: CacheEvents
  readonly defaults: CacheDefaults
  readonly now: () => number
  readonly access: StoreAccess
  /** The tracing hook, when one is installed (see `Cache.trace`). */
  tracing(): CacheTracing | undefined
}

/**
 * `setMany`, `deleteMany` and `getOrSetMany` of a Cache: one batched store call where the store
 * has one (a TieredStore: one MGET or pipeline and one bus message per batch), per-key calls where
 * it has not. Loader results go through the store's fenced `startLoad`/`setLoaded(Many)` path, and
 * each key of a batch load is a run of the key's single flight, shared with `getOrSet`.
 */
export class CacheBatches {
  constructor(private readonly host: BatchHost) {}

  /** See `Cache.setMany`. */
  setMany(entries: readonly SetManyEntry[], options?: SetOptions): Promise<void> {
    return traced(this.host.tracing(), 'setMany', undefined, () => this.setAll(entries, options))
  }

  private async setAll(entries: readonly SetManyEntry[], options?: SetOptions): Promise<void> {
    if (!Array.isArray(entries))
      throw new CacheOptionError('setMany: entries must be an array of { key, value, ttl?, tags? }')
    if (options !== undefined) assertKnownOptions('setMany', options, SET_OPTIONS)
    const { defaults, now, loads, store } = this.host
    const base = resolveWriteSettings(options, defaults)
    const at = now()
    const writes = entries.map((item): [string, CacheEntry, number] => {
      if (item === null || typeof item !== 'object')
        throw new CacheOptionError('setMany: each entry must be an object { key, value, ttl?, tags? }')
      validateKey(item.key)
      assertKnownOptions(`setMany("${item.key}")`, item, ENTRY_FIELDS)
      const { ttlMs, graceMs, tags } = resolveWriteSettings(
        { ttl: item.ttl, tags: item.tags ?? base.tags },
        { ...defaults, ttlMs: base.ttlMs, graceMs: base.graceMs },
      )
      return [item.key, createEntry(item.value, ttlMs, graceMs, at, tags), ttlMs]
    })
    if (writes.length === 0) return
    loads.invalidate({ kind: 'key', keys: writes.map(([key]) => key) })
    try {
      if (store.setMany !== undefined) await store.setMany(writes.map(([key, entry]) => [key, entry]))
      else await Promise.all(writes.map(([key, entry]) => store.set(key, entry)))
    } catch (error) {
      if (isInputError(error)) throw error
      this.host.counters.error('setMany', error)
      return
    }
    for (const [key, entry, ttlMs] of writes) this.host.access.counted(key, entry, ttlMs)
  }

  /** See `Cache.deleteMany`. */
  deleteMany(keys: readonly string[]): Promise<number> {
    return traced(this.host.tracing(), 'deleteMany', undefined, () => this.deleteAll(keys))
  }

  private async deleteAll(keys: readonly string[]): Promise<number> {
    this.checkKeys('deleteMany', keys)
    if (keys.length === 0) return 0
    const { store, loads, counters, events } = this.host
    loads.invalidate({ kind: 'key', keys })
    let count = 0
    try {
      if (store.deleteMany !== undefined) count = await store.deleteMany(keys)
      else count = (await Promise.all(keys.map((key) => store.delete(key)))).filter(Boolean).length
    } catch (error) {
      counters.error('deleteMany', error)
    }
    counters.deletes += keys.length
    if (events.has('invalidate')) events.emit('invalidate', { kind: 'key', source: 'local', keys, count })
    return count
  }

  /** See `Cache.getOrSetMany`. */
  getOrSetMany<T>(
    keys: readonly string[],
    loader: BatchLoader<T>,
    options?: GetOrSetManyOptions,
  ): Promise<(T | undefined)[]> {
    return traced(this.host.tracing(), 'getOrSetMany', undefined, () => this.loadAll(keys, loader, options))
  }

  private async loadAll<T>(
    keys: readonly string[],
    loader: BatchLoader<T>,
    options?: GetOrSetManyOptions,
  ): Promise<(T | undefined)[]> {
    this.checkKeys('getOrSetMany', keys)
    if (typeof loader !== 'function')
      throw new CacheOptionError(`getOrSetMany: loader must be a function, got ${typeof loader}`, {
        option: 'loader',
      })
    if (options !== undefined) assertKnownOptions('getOrSetMany', options, SET_OPTIONS)
    const settings = resolveWriteSettings(options, this.host.defaults)
    const { counters, loads } = this.host
    const entries = await this.readMany<T>(keys)
    const now = this.host.now()
    const values: (T | undefined)[] = new Array(keys.length)
    const stale = new Map<string, CacheEntry<T> | undefined>()
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      const entry = entries[i]
      if (entry !== undefined && isFresh(entry, now)) {
        counters.hit(key, entry, false)
        values[i] = entry.value
      } else if (!stale.has(key)) {
        const servable = entry !== undefined && isServable(entry, now) ? entry : undefined
        if (servable === undefined) counters.miss(key)
        stale.set(key, servable)
      }
    }
    if (stale.size === 0) return values
    // A key already loading (by getOrSet or another batch) is awaited; the rest load in one call.
    const pending = new Map<string, Promise<unknown>>()
    const toLoad: string[] = []
    for (const key of stale.keys()) {
      const run = loads.running(key)
      if (run === undefined) toLoad.push(key)
      else pending.set(key, run.promise)
    }
    if (toLoad.length > 0) this.startBatch(toLoad, loader, settings, pending)
    const settled = new Map<string, T | undefined>()
    let failure: { error: unknown } | undefined
    await Promise.all(
      [...pending].map(async ([key, promise]) => {
        try {
          const value = await promise
          settled.set(key, value === LEFT_OUT ? undefined : (value as T))
        } catch (error) {
          const old = stale.get(key)
          if (old === undefined) failure ??= { error }
          else {
            counters.hit(key, old, true)
            settled.set(key, old.value)
          }
        }
      }),
    )
    if (failure !== undefined) throw failure.error
    for (let i = 0; i < keys.length; i++) if (settled.has(keys[i]!)) values[i] = settled.get(keys[i]!)
    return values
  }

  /**
   * One loader call for `keys`, each key registered as a run of its single flight (so a getOrSet of
   * one of them joins it); results are written back (fenced) before the runs resolve.
   */
  private startBatch<T>(
    keys: string[],
    loader: BatchLoader<T>,
    settings: WriteSettings,
    pending: Map<string, Promise<unknown>>,
  ): void {
    const { store, counters, loads } = this.host
    // Before the loader reads anything: a change made after this point makes its result too old.
    const tokens = store.setLoaded === undefined ? undefined : keys.map((key) => store.startLoad?.(key))
    const runs: LoaderRun<unknown>[] = keys.map(() => ({
      promise: undefined as unknown as Promise<unknown>,
      invalidated: false,
      batch: true,
    }))
    const done = (async () => {
      counters.loaderRuns++
      const started = performance.now()
      let loaded: Map<string, T>
      try {
        loaded = toMap(await this.callLoader(loader, keys))
      } catch (error) {
        counters.loaderDone(keys[0]!, started, { error })
        throw error
      }
      counters.loaderDone(keys[0]!, started)
      await this.writeLoaded(keys, loaded, runs, tokens, settings)
      return loaded
    })()
    keys.forEach((key, j) => {
      const run = runs[j]!
      run.promise = done.then((loaded) => {
        const value = loaded.get(key)
        return value === undefined ? LEFT_OUT : value
      })
      // Nobody may be left waiting (a getOrSet timed out): an unobserved failure is not a crash.
      run.promise.catch(() => {})
      loads.register(key, run)
      pending.set(key, run.promise)
    })
  }

  /** The batch loader, inside a `cache.loader` span when tracing is on. */
  private callLoader<T>(loader: BatchLoader<T>, keys: string[]): Promise<Map<string, T> | Record<string, T>> {
    const tracing = this.host.tracing()
    if (tracing === undefined) return Promise.resolve(loader(keys.slice()))
    return tracing.span('cache.loader', { 'cache.keys': keys.length }, async () => loader(keys.slice()))
  }

  /** Writes the loaded values (not the keys invalidated meanwhile) through the fenced path, in one batch where the store can. */
  private async writeLoaded<T>(
    keys: readonly string[],
    loaded: Map<string, T>,
    runs: readonly LoaderRun<unknown>[],
    tokens: readonly LoadToken[] | undefined,
    settings: WriteSettings,
  ): Promise<void> {
    const { store, counters } = this.host
    const at = this.host.now()
    const items: [string, CacheEntry<T>, LoadToken][] = []
    keys.forEach((key, j) => {
      const value = loaded.get(key)
      if (value === undefined || runs[j]!.invalidated) return
      items.push([key, createEntry(value, settings.ttlMs, settings.graceMs, at, settings.tags), tokens?.[j]])
    })
    if (items.length === 0) return
    try {
      let written: boolean[]
      if (store.setLoadedMany !== undefined) written = await store.setLoadedMany(items)
      else if (store.setLoaded !== undefined) {
        const setLoaded = store.setLoaded.bind(store)
        written = await Promise.all(items.map(([key, entry, token]) => setLoaded(key, entry, token)))
      } else {
        await (store.setMany !== undefined
          ? store.setMany(items.map(([key, entry]) => [key, entry]))
          : Promise.all(items.map(([key, entry]) => store.set(key, entry))))
        written = items.map(() => true)
      }
      items.forEach(([key, entry], j) => {
        if (written[j]) this.host.access.counted(key, entry, settings.ttlMs)
      })
    } catch (error) {
      // The callers still get their values; the write failure is reported (e.g. an unserializable value).
      counters.error('set', error, items.length === 1 ? items[0]![0] : undefined)
    }
  }

  /** One batched read (getMany where the store has it); a failure is a miss for every key, reported. */
  private async readMany<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]> {
    const { store, counters } = this.host
    try {
      return store.getMany
        ? await store.getMany<T>(keys)
        : await Promise.all(keys.map((key) => store.get<T>(key)))
    } catch (error) {
      counters.error('getMany', error)
      return keys.map(() => undefined)
    }
  }

  private checkKeys(operation: string, keys: readonly string[]): void {
    if (!Array.isArray(keys))
      throw new CacheError(CacheErrorCode.INVALID_KEY, `${operation}: keys must be an array`)
    for (const key of keys) validateKey(key)
  }
}

/** A batch loader's result as a Map; anything but a Map or a plain object is the loader's bug. */
function toMap<T>(result: Map<string, T> | Record<string, T>): Map<string, T> {
  if (result instanceof Map) return result
  if (result !== null && typeof result === 'object' && !Array.isArray(result))
    return new Map(Object.entries(result))
  throw new CacheOptionError(
    `getOrSetMany: the loader must resolve a Map or a plain object keyed by key, got ${result === null ? 'null' : Array.isArray(result) ? 'an array' : typeof result}`,
    { option: 'loader' },
  )
}
