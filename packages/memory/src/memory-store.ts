import {
  type AnySerializer,
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  CacheKeyError,
  CacheOptionError,
  type CacheStore,
  type TierHealth,
  type TierStats,
} from '@strata-cache/core'
import { globMatcher } from '@strata-cache/core/internal'
import { LRUCache } from 'lru-cache'
import { checkEntry } from './entry-checks.ts'
import {
  type MemoryStoreOptions,
  MemoryValueMode,
  type ResolvedMemoryStoreOptions,
  resolveMemoryStoreOptions,
} from './memory-store-options.ts'
import { keysWhere, purgeStale, removeKeys } from './purge.ts'
import { buildEntry, createSlot, type Slot, textSlot } from './slot.ts'
import { parsedValue, storedValue } from './stored-value.ts'
import { TagIndex } from './tag-index.ts'
import { assertFits } from './value-size.ts'

const RESOLVED = Promise.resolve()

/**
 * L1: an in-process LRU over lru-cache, bounded by entries and optionally by bytes. Never returns
 * an entry at or past its `staleUntil`. By default holds deep-frozen JSON copies (see the README).
 */
export class MemoryStore implements CacheStore {
  /** Tier name, also set as `tier` on every entry this store returns. */
  readonly name: string
  private readonly options: ResolvedMemoryStoreOptions
  private readonly now: () => number
  private readonly lru: LRUCache<string, Slot>
  private readonly tagIndex = new TagIndex()
  private bytes = 0
  private evictions = 0
  private hits = 0
  private misses = 0
  /** Key of the last peek that found no fresh entry, until its fallback read or the next microtask (see peek). */
  private fallbackKey: string | undefined = undefined
  /** A forgetFallback is queued. */
  private forgetQueued = false
  private closed = false

  constructor(options?: MemoryStoreOptions) {
    this.options = resolveMemoryStoreOptions(options)
    this.name = this.options.name
    this.now = this.options.now
    this.lru = new LRUCache<string, Slot>({
      max: this.options.maxEntries,
      ...(this.options.maxBytes === undefined ? {} : { maxSize: this.options.maxBytes }),
      // Runs synchronously inside lru-cache for every removal (evict, overwrite, delete, clear),
      // so byte count and tag index can never drift from what the LRU holds.
      dispose: (slot, key, reason) => {
        this.bytes -= slot.size
        if (reason === 'evict') this.evictions++
        if (slot.tags !== undefined) this.tagIndex.remove(key, slot.tags)
      },
    })
  }

  /** The serializer of its frozen copies (option `serializer`); undefined when it holds values by reference. */
  get serializer(): AnySerializer | undefined {
    return this.options.values === MemoryValueMode.FROZEN_COPY ? this.options.serializer : undefined
  }

  /** Most entries held (option `maxEntries`). */
  get maxEntries(): number {
    return this.options.maxEntries
  }

  /** Entries held, including any past staleUntil not yet seen (see {@link MemoryStore.purgeStale}). */
  get size(): number {
    return this.lru.size
  }

  /**
   * Synchronous read for the L1 hit path: the stored frozen entry, or undefined when absent or past
   * staleUntil (then removed). No allocation on a hit.
   */
  peek<T>(key: string, at?: number): CacheEntry<T> | undefined {
    // A read of the key a peek just missed (or found stale), in the same synchronous run, is the
    // caller's fallback for the same lookup (Cache.get: peek, then get): counted once.
    const counted = key !== this.fallbackKey
    if (!counted) this.fallbackKey = undefined
    const slot = this.lru.get(key)
    if (slot !== undefined) {
      const now = at ?? this.now()
      if (now < slot.staleUntil && (slot.entry !== undefined || this.built(key, slot))) {
        if (counted) {
          this.hits++
          if (now >= slot.expiresAt) this.expectFallback(key)
        }
        return slot.entry as CacheEntry<T>
      }
      this.lru.delete(key)
    }
    if (counted) {
      this.misses++
      this.expectFallback(key)
    }
    return undefined
  }

  private expectFallback(key: string): void {
    this.fallbackKey = key
    if (this.forgetQueued) return
    // One forget in the queue at a time (it runs no later than one queued now would), and a promise
    // reaction rather than queueMicrotask, which wraps each callback for async_hooks: the miss path
    // of every L1 read paid for it.
    this.forgetQueued = true
    void RESOLVED.then(this.forgetFallback)
  }

  /** Ends the synchronous run in which a fallback read counts as the same lookup. */
  private readonly forgetFallback = (): void => {
    this.forgetQueued = false
    this.fallbackKey = undefined
  }

  /** The entry (fresh or within grace), or undefined. */
  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    this.assertOpen()
    return this.peek<T>(key)
  }

  /** Entries in the order of `keys`; undefined where absent or past staleUntil. */
  async getMany<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]> {
    this.assertOpen()
    if (!Array.isArray(keys)) throw new CacheKeyError(`${this.label}.getMany: keys must be an array`)
    const now = this.now()
    return keys.map((key) => this.lookup<T>(key, now))
  }

  /**
   * Stores a copy of the entry (see `values`). Refuses, before writing anything, a value that cannot
   * be serialized (CacheSerializationError) or that is over maxBytes (E_VALUE_TOO_LARGE). An entry
   * already past staleUntil is not stored and removes the key's previous entry.
   */
  async set<T>(key: string, entry: CacheEntry<T>): Promise<void> {
    this.assertOpen()
    this.commit(key, this.prepare(key, entry))
  }

  /**
   * Stores an entry whose value this store takes over instead of copying: for a value decoded for
   * this write alone (e.g. just parsed from Redis) that nobody else holds. The value is deep-frozen
   * in place, so whoever still has it (the reader that fetched it) now holds the frozen object that
   * this store serves, and `sizeBytes` (the UTF-8 length of the JSON text it was parsed from) is
   * its size for maxBytes and stats. Same checks and refusals as `set`, thrown synchronously; with
   * `values: 'reference'` it is `set` (measured by sizeOf, nothing frozen).
   */
  fill<T>(key: string, entry: CacheEntry<T>, sizeBytes: number): void {
    this.assertOpen()
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
      throw new CacheOptionError(
        `${this.label}.fill("${key}"): sizeBytes must be an integer >= 0, got ${String(sizeBytes)}`,
        { key, option: 'sizeBytes' },
      )
    }
    this.commit(key, this.prepare(key, entry, sizeBytes))
  }

  /**
   * Stores an entry whose value comes as the text this store's serializer writes (say, the JSON a
   * write just sent to Redis), kept as that text until its first read parses and freezes it: a value
   * written here and never read again costs no copy. `entry.value` is not looked at. Timing, tags and
   * maxBytes (the text's UTF-8 length) are checked now, as by `set`; a text the serializer cannot
   * read back, or a value nested too deep to freeze, is a miss at that first read (and is removed).
   * Only for a `frozen-copy` store (see {@link serializer}); throws E_INVALID_OPTION on another.
   */
  fillText<T>(key: string, entry: Omit<CacheEntry<T>, 'value'>, text: string): void {
    this.assertOpen()
    if (this.serializer === undefined || typeof text !== 'string') {
      throw new CacheOptionError(
        `${this.label}.fillText("${key}"): needs a frozen-copy store and the value as a string`,
        { key, option: 'values' },
      )
    }
    checkEntry(this.label, key, entry as CacheEntry<T>)
    const now = this.now()
    if (entry.staleUntil <= now) {
      this.commit(key, undefined)
      return
    }
    // lru-cache needs a positive integer size.
    const size = Math.max(1, Buffer.byteLength(text, 'utf8'))
    assertFits(this.options.maxBytes, this.label, key, size)
    this.commit(key, textSlot(entry, text, size, now))
  }

  /** Like `set` for many entries; if any is refused, none is written. */
  async setMany<T>(entries: readonly [string, CacheEntry<T>][]): Promise<void> {
    this.assertOpen()
    if (!Array.isArray(entries))
      throw new CacheKeyError(`${this.label}.setMany: entries must be an array of [key, entry]`)
    const prepared = entries.map(([key, entry]) => [key, this.prepare(key, entry)] as const)
    for (const [key, slot] of prepared) this.commit(key, slot)
  }

  /** Removes one key; true when it held an entry that was still servable. */
  async delete(key: string): Promise<boolean> {
    this.assertOpen()
    const slot = this.lru.peek(key)
    if (slot === undefined) return false
    this.lru.delete(key)
    return this.now() < slot.staleUntil
  }

  /** Removes many keys; returns how many held an entry that was still servable. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    this.assertOpen()
    if (!Array.isArray(keys)) throw new CacheKeyError(`${this.label}.deleteMany: keys must be an array`)
    return this.removeAll(keys)
  }

  /** Removes every key matching the glob (`*`, `?`); returns how many servable entries went. */
  async deletePattern(pattern: string): Promise<number> {
    this.assertOpen()
    if (typeof pattern !== 'string' || pattern === '') {
      throw new CacheKeyError(`${this.label}.deletePattern: pattern must be a non-empty string`, {
        code: CacheErrorCode.INVALID_PATTERN,
      })
    }
    const matches = globMatcher(pattern)
    const found: string[] = []
    for (const key of this.lru.keys()) if (matches(key)) found.push(key)
    return this.removeAll(found)
  }

  /** Removes every entry carrying any of the tags; returns how many servable entries went. */
  async deleteTags(tags: readonly string[]): Promise<number> {
    this.assertOpen()
    if (!Array.isArray(tags))
      throw new CacheKeyError(`${this.label}.deleteTags: tags must be an array of strings`)
    const found = this.tagIndex.keysWithAny(tags)
    // Collected first: each delete edits the tag sets through dispose.
    return this.removeAll(found)
  }

  /** Removes every entry. Counters (hits, misses, evictions) are kept. */
  async clear(): Promise<void> {
    this.assertOpen()
    this.lru.clear()
  }

  /** Drops every entry; afterwards operations reject with E_CLOSED and `peek` misses. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.lru.clear()
    this.tagIndex.clear()
  }

  /** One row for this tier: entries, bytes, evictions, hits, misses. */
  async stats(): Promise<TierStats[]> {
    return [
      {
        tier: this.name,
        available: !this.closed,
        entries: this.lru.size,
        bytes: this.bytes,
        evictions: this.evictions,
        hits: this.hits,
        misses: this.misses,
      },
    ]
  }

  /** `up` while open, `down` once closed. */
  async health(): Promise<TierHealth[]> {
    return this.closed
      ? [{ tier: this.name, status: 'down', message: 'closed' }]
      : [{ tier: this.name, status: 'up' }]
  }

  /**
   * Removes every entry written into this store before `epochMs` of its own clock (the local write
   * time, not `entry.createdAt`: entries filled from L2 carry an older createdAt). Returns how many
   * servable entries went. For the tiered L1 after an invalidation gap.
   */
  purgeWrittenBefore(epochMs: number): number {
    if (typeof epochMs !== 'number' || Number.isNaN(epochMs)) {
      throw new CacheOptionError(
        `${this.label}.purgeWrittenBefore: epochMs must be a number, got ${String(epochMs)}`,
        {
          option: 'epochMs',
        },
      )
    }
    return this.removeAll(keysWhere(this.lru, (slot) => slot.writtenAt < epochMs))
  }

  /** Removes every entry at or past staleUntil now (they are otherwise removed when next seen); returns how many. */
  purgeStale(): number {
    return purgeStale(this.lru, this.now())
  }

  /**
   * Keys of servable entries, most recently used first, as a snapshot: reading or writing the store
   * while iterating is safe (a live walk of the LRU list could loop as reads reorder it).
   */
  keys(): IterableIterator<string> {
    const now = this.now()
    return keysWhere(this.lru, (slot) => now < slot.staleUntil)[Symbol.iterator]()
  }

  private get label(): string {
    return `MemoryStore "${this.name}"`
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new CacheError(
        CacheErrorCode.CLOSED,
        `${this.label} is closed: create a new store to cache again`,
      )
    }
  }

  /**
   * Builds the slot, or throws before anything is written; undefined when already past staleUntil.
   * With `ownedSize` (from `fill`) a frozen-copy store freezes the value in place and counts that size.
   */
  private prepare(key: string, entry: CacheEntry<unknown>, ownedSize?: number): Slot | undefined {
    checkEntry(this.label, key, entry)
    const now = this.now()
    if (entry.staleUntil <= now) return undefined
    const { value, size } = storedValue(this.options, this.label, key, entry.value, ownedSize)
    return createSlot(entry, value, size, now, this.name)
  }

  /** A counted read at `now`, for batches. */
  private lookup<T>(key: string, now: number): CacheEntry<T> | undefined {
    const slot = this.lru.get(key)
    if (slot !== undefined) {
      if (now < slot.staleUntil && (slot.entry !== undefined || this.built(key, slot))) {
        this.hits++
        return slot.entry as CacheEntry<T>
      }
      this.lru.delete(key)
    }
    this.misses++
    return undefined
  }

  /** Builds a text slot's entry on its first read; false (nothing built) when its text does not make a value. */
  private built(key: string, slot: Slot): boolean {
    try {
      buildEntry(slot, parsedValue(this.options.serializer, this.label, key, slot.text!), this.name)
      return true
    } catch {
      return false
    }
  }

  private commit(key: string, slot: Slot | undefined): void {
    if (slot === undefined) {
      this.lru.delete(key)
      return
    }
    // The previous entry's bytes and tags are released by dispose inside lru.set.
    if (this.options.maxBytes === undefined) this.lru.set(key, slot)
    else this.lru.set(key, slot, { size: slot.size })
    this.bytes += slot.size
    if (slot.tags !== undefined) this.tagIndex.add(key, slot.tags)
  }

  private removeAll(keys: Iterable<string>): number {
    return removeKeys(this.lru, keys, this.now())
  }
}
