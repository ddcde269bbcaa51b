import type { CacheCounters } from './cache-counters.ts'
import type { CacheEntry } from './cache-entry.ts'
import type { CacheStore } from './cache-store.ts'
import { isInputError } from './errors.ts'
import type { CacheEvents } from './events.ts'
import type { LoadedWrite } from './loader-run.ts'

/**
 * A Cache's single-key reads and writes of its store: a failed read is a miss and a failed write is
 * absorbed (both reported as `error` events); only bad input reaches the caller. Every write that
 * took is counted and announced as a `set` event.
 */
export class StoreAccess {
  constructor(
    private readonly store: CacheStore,
    private readonly counters: CacheCounters,
    private readonly events: CacheEvents,
  ) {}

  /** A store read whose failure is a miss, reported as an error event. */
  async read<T>(key: string): Promise<CacheEntry<T> | undefined> {
    try {
      return await this.store.get<T>(key)
    } catch (error) {
      this.counters.error('get', error, key)
      return undefined
    }
  }

  /**
   * Writes an entry and counts it; rejects only for bad input. With `load`, it is a loader's result
   * written through the store's `setLoaded` (dropped when the data changed since the load began).
   */
  async write(key: string, entry: CacheEntry, ttlMs: number, load?: LoadedWrite): Promise<void> {
    try {
      if (load === undefined) await this.store.set(key, entry)
      else if (!(await this.store.setLoaded!(key, entry, load.token, load.lease))) return
    } catch (error) {
      // Bad input is the caller's to fix; anything else (a sick L2) never reaches the caller.
      if (isInputError(error)) throw error
      this.counters.error('set', error, key)
      return
    }
    this.counted(key, entry, ttlMs)
  }

  /** Counts a write that took and emits `set`. */
  counted(key: string, entry: CacheEntry, ttlMs: number): void {
    this.counters.sets++
    if (this.events.has('set'))
      this.events.emit('set', entry.tags ? { key, ttlMs, tags: entry.tags } : { key, ttlMs })
  }
}
