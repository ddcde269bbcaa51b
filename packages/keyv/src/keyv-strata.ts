import { EventEmitter } from 'node:events'
import type { SetOptions } from '@strata-cache/core'
import type { KeyvStoreAdapter, StoredData } from 'keyv'
import { namespacePattern, toCacheKey } from './key-mapping.ts'
import {
  type KeyvStrataCache,
  type KeyvStrataOptions,
  type ResolvedKeyvStrataOptions,
  resolveKeyvStrataOptions,
} from './keyv-strata-options.ts'

/** One entry of Keyv's `setMany`, already serialized by Keyv. */
interface KeyvStrataEntry {
  key: string
  value: unknown
  ttl?: number
}

/**
 * A Keyv storage adapter over a Strata `Cache`: `new Keyv({ store: new KeyvStrata(cache) })`.
 * Keyv keeps serializing values and checking its own `expires`; Strata stores them in its tiers
 * (L1, Redis, the invalidation bus across pods). Keys Strata's key schema refuses are mapped to
 * valid ones (see {@link KeyvStrata.cacheKey}); `clear()` removes only this adapter's namespace.
 */
export class KeyvStrata extends EventEmitter implements KeyvStoreAdapter {
  /** The options as given, plus `dialect: 'strata'`; Keyv reads and writes this bag. */
  opts: KeyvStrataOptions & { dialect: 'strata'; [option: string]: unknown }
  /** The Keyv namespace; Keyv sets it. Keys arrive as `namespace:key`. @default undefined */
  namespace: string | undefined
  /** The Strata Cache the values live in. */
  readonly cache: KeyvStrataCache
  private readonly settings: ResolvedKeyvStrataOptions

  constructor(cache: KeyvStrataCache, options: KeyvStrataOptions = {}) {
    super()
    this.settings = resolveKeyvStrataOptions(cache, options)
    this.cache = cache
    this.opts = { ...options, dialect: 'strata' }
  }

  /** The Strata key a Keyv key is stored under: `{prefix}{namespace}:{key}`, hashed where the schema refuses it. */
  cacheKey(key: string): string {
    return toCacheKey(this.settings.prefix, this.namespace, key)
  }

  /** The value Keyv stored under `key` (its serialized form), or undefined. */
  get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.cache.get<StoredData<Value>>(this.cacheKey(key))
  }

  /** The values of `keys` in one batch where the Cache's store can; undefined for each miss. */
  getMany<Value>(keys: string[]): Promise<StoredData<Value | undefined>[]> {
    return this.cache.getMany<StoredData<Value>>(keys.map((key) => this.cacheKey(key)))
  }

  /** True when the Cache holds a fresh value for `key`. */
  async has(key: string): Promise<boolean> {
    return (await this.cache.get(this.cacheKey(key))) !== undefined
  }

  /** Stores Keyv's serialized value for `ttl` ms (none: `defaultTtl`); resolves true. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    await this.cache.set(this.cacheKey(key), value, this.setOptions(ttl))
    return true
  }

  /** Stores each entry as `set` would, in one batch when the Cache has `setMany`; rejects with the first failure. */
  async setMany(entries: KeyvStrataEntry[]): Promise<void> {
    if (this.cache.setMany === undefined) {
      await Promise.all(entries.map(({ key, value, ttl }) => this.set(key, value, ttl)))
      return
    }
    await this.cache.setMany(
      entries.map(({ key, value, ttl }) => ({ key: this.cacheKey(key), value, ...this.setOptions(ttl) })),
    )
  }

  /** Removes `key`; resolves whether it was there. */
  delete(key: string): Promise<boolean> {
    return this.cache.delete(this.cacheKey(key))
  }

  /** Removes every key (one batch when the Cache has `deleteMany`); resolves true when each was there, as Keyv does. */
  async deleteMany(keys: string[]): Promise<boolean> {
    if (this.cache.deleteMany === undefined) {
      const deleted = await Promise.all(keys.map((key) => this.delete(key)))
      return deleted.every(Boolean)
    }
    const unique = new Set(keys.map((key) => this.cacheKey(key)))
    return (await this.cache.deleteMany([...unique])) === unique.size
  }

  /** Removes every key of this adapter's namespace (and nothing else of the Cache), on every tier and pod. */
  async clear(): Promise<void> {
    await this.cache.invalidate(namespacePattern(this.settings.prefix, this.namespace))
  }

  /** Closes the Cache, unless the option `closeOnDisconnect` is false. */
  async disconnect(): Promise<void> {
    if (this.settings.closeOnDisconnect) await this.cache.close()
  }

  private setOptions(ttl: number | undefined): SetOptions | undefined {
    if (typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0) return { ttl }
    return this.settings.defaultTtlMs === undefined ? undefined : { ttl: this.settings.defaultTtlMs }
  }
}
