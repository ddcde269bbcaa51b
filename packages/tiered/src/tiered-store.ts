import {
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  type CacheStore,
  type DistributedLock,
  type StoreEvent,
  type StoreEventListener,
  type TierHealth,
  type TierStats,
} from '@strata-cache/core'
import { ListenerSet } from '@strata-cache/core/internal'
import { decodedValueBytes } from '@strata-cache/redis/internal'
import { DegradedL1 } from './degraded-l1.ts'
import { FillGuard } from './fill-guard.ts'
import type { Invalidation, InvalidationBus } from './invalidation.ts'
import { RemoteInvalidations } from './remote-invalidations.ts'
import { tieredHealth, tieredStats } from './tier-report.ts'
import {
  type L1Store,
  type L2Store,
  resolveTieredStoreOptions,
  type TieredStoreOptions,
} from './tiered-store-options.ts'

/**
 * L1 + L2 + an invalidation bus. Reads L1, then L2 (filling L1); writes L2, then L1, then tells the
 * other pods (with `publishOnL2Connection`, a `set` tells them in the L2 write's own round trip, run
 * right after the write). Never puts into L1 a value whose read overlapped an invalidation of its key
 * (see FillGuard), and distrusts L1 whenever the bus may have lost a message (see DegradedL1).
 */
export class TieredStore implements CacheStore {
  readonly name: string
  readonly l1: L1Store
  readonly l2: L2Store
  readonly bus: InvalidationBus | undefined
  readonly lock: DistributedLock | undefined
  private readonly now: () => number
  /** The bus, when a `set`'s invalidation goes on L2's connection (`publishOnL2Connection` and both sides can). */
  private readonly followingBus: Required<Pick<InvalidationBus, 'followWrite'>> | undefined
  private readonly guard = new FillGuard()
  private readonly degraded: DegradedL1
  private readonly remote: RemoteInvalidations
  private readonly listeners = new ListenerSet<StoreEvent>('tiered store')
  private readonly unsubscribes: (() => void)[] = []
  private readonly publishing = new Set<Promise<void>>()
  private closed = false

  constructor(options: TieredStoreOptions) {
    const resolved = resolveTieredStoreOptions(options)
    this.l1 = options.l1
    this.l2 = options.l2
    this.bus = options.bus
    this.name = resolved.name
    this.now = resolved.now
    const busUp = this.bus === undefined || this.bus.isConnected()
    this.degraded = new DegradedL1(this.l1, this.guard, resolved.degradedL1TtlMs, this.now, busUp)
    this.remote = new RemoteInvalidations({
      l1: this.l1,
      guard: this.guard,
      degraded: this.degraded,
      emit: (event) => this.listeners.emit(event),
    })
    const follows =
      options.publishOnL2Connection === true &&
      this.l2.setFollowedBy !== undefined &&
      this.l2.canFollowWrites !== false &&
      this.bus?.followWrite !== undefined
    this.followingBus = follows ? (this.bus as Required<Pick<InvalidationBus, 'followWrite'>>) : undefined
    const lock = options.lock
    if (typeof lock === 'function') this.lock = lock(this)
    else if (lock !== undefined && lock !== false) this.lock = lock
    const bus = this.bus?.subscribe((event) => {
      if (!this.closed) this.remote.handle(event)
    })
    if (bus !== undefined) this.unsubscribes.push(bus)
    for (const tier of [this.l1, this.l2]) {
      const unsubscribe = tier.subscribe?.((event) => {
        if (tier === this.l2 && event.type === 'error') this.onL2Error(event.key, event.operation)
        this.listeners.emit(event)
      })
      if (unsubscribe !== undefined) this.unsubscribes.push(unsubscribe)
    }
  }

  // ---- reads ------------------------------------------------------------------------------------

  /** L1 only, synchronously; misses while L1 is distrusted. */
  peek<T>(key: string, at?: number): CacheEntry<T> | undefined {
    if (this.closed) return undefined
    this.degraded.enforce()
    return this.l1.peek?.<T>(key, at)
  }

  /** L1 when fresh there, else L2 (filling L1 unless an invalidation overlapped the read); an L1 entry within grace when L2 misses. */
  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    this.assertOpen()
    this.degraded.enforce()
    const local = this.l1.peek !== undefined ? this.l1.peek<T>(key) : await this.l1.get<T>(key)
    if (local !== undefined && this.now() < local.expiresAt) return local
    const ticket = this.guard.begin(key, false)
    let entry: CacheEntry<T> | undefined
    try {
      entry = await this.l2.get<T>(key)
    } finally {
      this.guard.end(ticket, false)
    }
    if (entry === undefined) {
      // L2 missed or is down: an L1 entry within grace is still better than nothing.
      return local
    }
    if (this.guard.mayFill(ticket)) await this.writeL1(key, entry)
    return entry
  }

  /** L1 for each key, then one batched L2 read (`getMany` where L2 has it) for the rest; same order as `keys`. */
  async getMany<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]> {
    this.assertOpen()
    this.degraded.enforce()
    const now = this.now()
    const results: (CacheEntry<T> | undefined)[] = new Array(keys.length)
    const locals: (CacheEntry<T> | undefined)[] = new Array(keys.length)
    const missing: number[] = []
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      const local = this.l1.peek !== undefined ? this.l1.peek<T>(key) : await this.l1.get<T>(key)
      if (local !== undefined && now < local.expiresAt) results[i] = local
      else {
        locals[i] = local
        missing.push(i)
      }
    }
    if (missing.length === 0) return results
    const missingKeys = missing.map((i) => keys[i]!)
    const tickets = missingKeys.map((key) => this.guard.begin(key, false))
    let entries: (CacheEntry<T> | undefined)[]
    try {
      entries =
        this.l2.getMany !== undefined
          ? await this.l2.getMany<T>(missingKeys)
          : await Promise.all(missingKeys.map((key) => this.l2.get<T>(key)))
    } finally {
      for (const ticket of tickets) this.guard.end(ticket, false)
    }
    for (let j = 0; j < missing.length; j++) {
      const i = missing[j]!
      const entry = entries[j]
      if (entry === undefined) {
        results[i] = locals[i]
        continue
      }
      if (this.guard.mayFill(tickets[j]!)) await this.writeL1(missingKeys[j]!, entry)
      results[i] = entry
    }
    return results
  }

  // ---- writes -----------------------------------------------------------------------------------

  /** L2, then L1, then the other pods are told (in L2's round trip with `publishOnL2Connection`). */
  async set<T>(key: string, entry: CacheEntry<T>): Promise<void> {
    this.assertOpen()
    const invalidation: Invalidation = { kind: 'key', keys: [key] }
    const notice = this.followingBus?.followWrite(invalidation)
    const ticket = this.guard.begin(key, true)
    let published = false
    try {
      // Bad input (unserializable, too large) throws here, before L1 changes or any I/O: nothing is lost.
      if (notice !== undefined) published = await this.l2.setFollowedBy!(key, entry, notice.followUp)
      else await this.l2.set(key, entry)
      // Another write or invalidation of this key overlapped ours: who wins in L2 is unknown, so drop L1's copy.
      // An L2 that could not take the write leaves L1 the only copy: keep it no longer than degradedL1Ttl.
      if (this.guard.isCurrent(ticket)) await this.writeL1(key, entry, this.guard.l2WriteFailed(ticket))
      else await this.l1.delete(key).catch(() => false)
    } finally {
      this.guard.end(ticket, true)
    }
    // Not published with the write (Redis is sick): the bus queues it; no second wait on that server.
    if (notice === undefined) await this.publish(invalidation)
    else await notice.settled(published)
  }

  /** One batched L2 write (`setMany` where L2 has it; nothing is written if any value is refused), then L1, then one bus message. */
  async setMany<T>(entries: readonly [string, CacheEntry<T>][]): Promise<void> {
    this.assertOpen()
    if (entries.length === 0) return
    const tickets = entries.map(([key]) => this.guard.begin(key, true))
    try {
      if (this.l2.setMany !== undefined) await this.l2.setMany(entries)
      else for (const [key, entry] of entries) await this.l2.set(key, entry)
      for (let j = 0; j < entries.length; j++) {
        const [key, entry] = entries[j]!
        const ticket = tickets[j]!
        if (this.guard.isCurrent(ticket)) await this.writeL1(key, entry, this.guard.l2WriteFailed(ticket))
        else await this.l1.delete(key).catch(() => false)
      }
    } finally {
      for (const ticket of tickets) this.guard.end(ticket, true)
    }
    await this.publish({ kind: 'key', keys: [...new Set(entries.map(([key]) => key))] })
  }

  /** Removes the key from L2 and L1 and tells the other pods; true when L2 held it (L1 while L2 is unavailable). */
  async delete(key: string): Promise<boolean> {
    this.assertOpen()
    return this.removeFromBoth(
      { kind: 'key', keys: [key] },
      () => this.l2.delete(key),
      () => this.l1.delete(key),
    )
  }

  /** Removes the keys matching the glob from L2 and L1 and tells the other pods; returns L2's count (L1's while L2 is unavailable). */
  async deletePattern(pattern: string): Promise<number> {
    this.assertOpen()
    return this.removeFromBoth(
      { kind: 'pattern', pattern },
      () => this.l2.deletePattern(pattern),
      () => this.l1.deletePattern(pattern),
    )
  }

  /** Removes the entries carrying any of the tags from L2 and L1 and tells the other pods; returns L2's count (L1's while L2 is unavailable). */
  async deleteTags(tags: readonly string[]): Promise<number> {
    this.assertOpen()
    return this.removeFromBoth(
      { kind: 'tags', tags },
      () => this.l2.deleteTags(tags),
      () => this.l1.deleteTags(tags),
      tags.length > 0,
    )
  }

  /** Clears L2 (this prefix only) and L1 and tells the other pods to clear theirs. */
  async clear(): Promise<void> {
    this.assertOpen()
    await this.removeFromBoth(
      { kind: 'clear' },
      () => this.l2.clear(),
      () => this.l1.clear(),
    )
  }

  /** Closes the bus, then L1 and L2. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe()
    await Promise.allSettled([...this.publishing])
    await this.bus?.close()
    await Promise.allSettled([this.l1.close(), this.l2.close()])
    this.listeners.clear()
  }

  // ---- observing --------------------------------------------------------------------------------

  /** L1's and L2's rows, plus a `bus` row whose details are `{ sent, received, dropped, gaps, reconnects, pending }`. */
  stats(): Promise<TierStats[]> {
    return tieredStats(this.l1, this.l2, this.bus)
  }

  /** L1's checks, then L2's and the bus's marked optional: without them the cache is degraded, not down. */
  health(): Promise<TierHealth[]> {
    return tieredHealth(this.l1, this.l2, this.bus)
  }

  /** L1's and L2's own events, bus state changes, and one `invalidate` event per invalidation applied from the bus. */
  subscribe(listener: StoreEventListener): () => void {
    return this.listeners.add(listener)
  }

  /**
   * Runs `callback` whenever another pod announces a write or delete of `key` (an invalidation of it
   * arrives from the bus); returns the function that unregisters it. A lock's waiters wake on it.
   */
  onKeyNotice(key: string, callback: () => void): () => void {
    return this.remote.onKeyNotice(key, callback)
  }

  /** Resolves true once the bus is connected (at once without a bus), false after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<boolean> {
    return this.bus === undefined ? Promise.resolve(true) : this.bus.ready(timeoutMs)
  }

  // ---- internals --------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed)
      throw new CacheError(
        CacheErrorCode.CLOSED,
        `TieredStore "${this.name}" is closed: create a new store to cache again`,
      )
  }

  private l2Available(): boolean {
    return this.l2.isAvailable?.() ?? true
  }

  private onL2Error(key: string | undefined, operation: string): void {
    // A failed batch names no key: every write in flight may be the one that failed.
    if (key !== undefined || operation === 'setMany') this.guard.markL2WriteFailed(key)
  }

  /**
   * A delete, pattern, tags or clear: L2, then L1, fenced so that no read in flight fills L1 across
   * it, then the notice to the other pods. The result is L2's (how many it removed), or L1's while L2
   * is unavailable.
   */
  private async removeFromBoth<N>(
    invalidation: Invalidation,
    fromL2: () => Promise<N>,
    fromL1: () => Promise<N>,
    notify = true,
  ): Promise<N> {
    const unfence = this.guard.fence(invalidation)
    let result: N
    try {
      const available = this.l2Available()
      const l2Result = await fromL2()
      const l1Result = await fromL1()
      result = available ? l2Result : l1Result
    } finally {
      unfence()
    }
    if (notify) await this.publish(invalidation)
    return result
  }

  /**
   * Writes into L1, with the TTL clamped to degradedL1Ttl while invalidations may not reach us. An
   * entry L2 just decoded for this read (it says how many bytes of JSON it came from) is handed to
   * L1's `fill`, which freezes its value in place instead of serializing and parsing a copy.
   */
  private async writeL1(key: string, entry: CacheEntry, l2Failed = false): Promise<void> {
    // Read before the spread below, which does not copy the (non-enumerable) mark.
    const ownedBytes = this.l1.fill === undefined ? undefined : decodedValueBytes(entry)
    const { tier: _, ...copy } = entry
    const held = this.degraded.clamp(copy, l2Failed || !this.l2Available())
    try {
      if (ownedBytes !== undefined) await this.l1.fill!(key, held, ownedBytes)
      else await this.l1.set(key, held)
    } catch (error) {
      // L1 refused it (e.g. over its maxBytes): never keep the previous copy in its place.
      await this.l1.delete(key).catch(() => false)
      this.listeners.emit({ type: 'error', operation: 'set', tier: this.l1.name, error, key })
    }
  }

  /**
   * Tells the other pods and waits for Redis to acknowledge the PUBLISH (bounded by the bus's command
   * timeout; while Redis is down the bus queues it and this resolves at once). Redis writes a message
   * to every subscriber's connection before it acknowledges, so once a write or invalidation returns,
   * the other pods' copies are already on their way: a request the caller sends to another pod next
   * finds the message ahead of it, instead of racing it. `close()` waits for any still in flight.
   */
  private async publish(invalidation: Invalidation): Promise<void> {
    if (this.bus === undefined) return
    const sending = this.bus.publish(invalidation)
    this.publishing.add(sending)
    try {
      await sending
    } finally {
      this.publishing.delete(sending)
    }
  }
}
