import {
  type BreakerState,
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  type CacheStore,
  type StoreEvent,
  type StoreEventListener,
  type TierStats,
} from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'

/**
 * A two-tier store for these tests until @strata-cache/tiered lands: two real MemoryStores as L1
 * and L2 (read L1, then L2 and fill L1), an L2 that can be taken down, and the stats rows the
 * tiered store reports (an L2 breaker in details, a `bus` row with counters).
 */
export class TwoTierStore implements CacheStore {
  readonly name = 'tiered'
  readonly l1: MemoryStore
  readonly l2: MemoryStore
  l2Down = false
  breaker: BreakerState = 'closed'
  readonly bus = { sent: 0, received: 0, dropped: 0, rejected: 0, gaps: 0, reconnects: 0 }
  /** What a TieredStore reports on L2's row as `details.repairs`. */
  readonly repairs = { pending: 0, queued: 0, replayed: 0, collapsed: 0 }
  private readonly listeners = new Set<StoreEventListener>()

  constructor(now: () => number) {
    this.l1 = new MemoryStore({ name: 'l1', now })
    this.l2 = new MemoryStore({ name: 'l2', now })
  }

  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    const local = await this.l1.get<T>(key)
    if (local !== undefined) return local
    const remote = await this.remote().get<T>(key)
    if (remote !== undefined) {
      const { tier: _, ...copy } = remote
      await this.l1.set(key, copy)
    }
    return remote
  }

  async set<T>(key: string, entry: CacheEntry<T>): Promise<void> {
    await this.remote().set(key, entry)
    await this.l1.set(key, entry)
    this.bus.sent++
  }

  async delete(key: string): Promise<boolean> {
    await this.l1.delete(key)
    return this.remote().delete(key)
  }

  async deletePattern(pattern: string): Promise<number> {
    await this.l1.deletePattern(pattern)
    return this.remote().deletePattern(pattern)
  }

  async deleteTags(tags: readonly string[]): Promise<number> {
    await this.l1.deleteTags(tags)
    return this.remote().deleteTags(tags)
  }

  async clear(): Promise<void> {
    await this.l1.clear()
    await this.remote().clear()
  }

  async close(): Promise<void> {
    await this.l1.close()
    await this.l2.close()
  }

  async stats(): Promise<TierStats[]> {
    const [l1] = await this.l1.stats()
    const [l2] = await this.l2.stats()
    return [
      l1!,
      {
        ...l2!,
        available: !this.l2Down,
        details: { breaker: { state: this.breaker }, repairs: { ...this.repairs } },
      },
      { tier: 'bus', available: true, details: { ...this.bus, pending: 0 } },
    ]
  }

  subscribe(listener: StoreEventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Raises a store event, as a real store does for breaker changes, bus changes and bus invalidations. */
  emit(event: StoreEvent): void {
    for (const listener of this.listeners) listener(event)
  }

  /** Moves the L2 breaker and reports it, as the redis store does. */
  setBreaker(state: BreakerState): void {
    const previous = this.breaker
    this.breaker = state
    this.emit({ type: 'breaker', tier: 'l2', state, previous })
  }

  private remote(): MemoryStore {
    if (this.l2Down) {
      throw Object.assign(new CacheError(CacheErrorCode.STORE_UNAVAILABLE, 'l2 is down'), { tier: 'l2' })
    }
    return this.l2
  }
}
