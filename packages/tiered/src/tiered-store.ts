import {
  assertKnownOptions,
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  CacheOptionError,
  type CacheStore,
  type DistributedLock,
  type Duration,
  globMatcher,
  type InvalidationKind,
  parseDuration,
  type StoreEvent,
  type StoreEventListener,
  type TierHealth,
  type TierStats,
} from '@strata-cache/core'
import { decodedValueBytes } from '@strata-cache/redis'
import type { BusEvent, Invalidation, InvalidationBus } from './invalidation.ts'
import { RedisBus } from './redis-bus.ts'
import { RedisLock } from './redis-lock.ts'

/** An in-process L1: `peek` for the sync hit path, `purgeWrittenBefore` to drop what a gap may have made stale. */
export interface L1Store extends CacheStore {
  purgeWrittenBefore?(epochMs: number): number
  /**
   * Like `set`, but takes over the entry's value (no copy) and counts `sizeBytes` as its size; used
   * for fills from an L2 read whose value nobody else holds (see MemoryStore.fill).
   */
  fill?(key: string, entry: CacheEntry, sizeBytes: number): void | Promise<void>
}

/** A shared L2: `isAvailable()` false while its breaker is open. */
export interface L2Store extends CacheStore {
  isAvailable?(): boolean
  /** False when `setAndPublish` can never pair the two (a Cluster: the PUBLISH may go to another node). */
  readonly canPublishWithWrite?: boolean
  /** `set` plus a PUBLISH in the same round trip, in that order (see RedisStore.setAndPublish). */
  setAndPublish?<T>(
    key: string,
    entry: CacheEntry<T>,
    channel: string,
    message: (stream: number) => string,
  ): Promise<boolean>
}

export interface TieredStoreOptions {
  /** The in-process tier, usually a MemoryStore (same clock as `now`). */
  l1: L1Store
  /** The shared tier, usually a RedisStore. */
  l2: L2Store
  /** Carries invalidations to the other pods; without one, this store trusts its L1 (single process). */
  bus?: InvalidationBus
  /** While the bus is down (or L2 unavailable), an L1 entry is served at most this long after it was written here, or after the bus went down. @default '5s' */
  degradedL1Ttl?: Duration
  /** Store name, as reported to the Cache. @default 'tiered' */
  name?: string
  /** Distributed single flight; by default a RedisLock over a RedisBus's connection, `false` for none. */
  lock?: DistributedLock | false
  /** Clock, epoch ms; give L1 the same one. @default Date.now */
  now?: () => number
  /**
   * L2 and the bus are on the same Redis server: send a `set`'s invalidation on L2's connection right
   * behind the write (`l2.setAndPublish` and `bus.handOff`), one round trip instead of two, in the
   * same order. createCache turns it on. @default false
   */
  publishOnL2Connection?: boolean
}

const OPTIONS = ['l1', 'l2', 'bus', 'degradedL1Ttl', 'name', 'lock', 'now', 'publishOnL2Connection'] as const

/** Reads and writes in flight for one key; `epoch` moves whenever the key is invalidated or written. */
interface KeyActivity {
  users: number
  writers: number
  epoch: number
  /** L2 reported a failed write of this key while a write was in flight. */
  l2WriteFailed?: boolean
}

/** What a read or write captured when it started, to tell at the end whether L1 may take its value. */
interface Ticket {
  key: string
  activity: KeyActivity
  epoch: number
  global: number
}

/**
 * L1 + L2 + an invalidation bus. Reads L1, then L2 (filling L1); writes L2, then L1, then tells the
 * other pods (with `publishOnL2Connection`, a `set` tells them in the L2 write's own round trip, run
 * right after the write). Never puts into L1 a value whose read overlapped an invalidation of its key, and
 * distrusts L1 whenever the bus may have lost a message (gap, drop, reconnect).
 */
export class TieredStore implements CacheStore {
  readonly name: string
  readonly l1: L1Store
  readonly l2: L2Store
  readonly bus: InvalidationBus | undefined
  readonly lock: DistributedLock | undefined
  private readonly degradedMs: number
  private readonly now: () => number
  /** The bus, when a `set`'s invalidation goes on L2's connection (`publishOnL2Connection` and both sides can). */
  private readonly handOffBus: Required<Pick<InvalidationBus, 'handOff'>> | undefined
  private readonly activity = new Map<string, KeyActivity>()
  private readonly listeners = new Set<StoreEventListener>()
  private readonly keyNotices = new Map<string, Set<() => void>>()
  private readonly unsubscribes: (() => void)[] = []
  private readonly publishing = new Set<Promise<void>>()
  /** Moves on anything that touches many keys (pattern, tags, clear, bus drop): no fill across it. */
  private globalEpoch = 0
  private busUp: boolean
  private busDownAt: number
  private degradedPurged = false
  private closed = false

  constructor(options: TieredStoreOptions) {
    assertKnownOptions('TieredStore', options, OPTIONS)
    for (const tier of ['l1', 'l2'] as const) {
      if (typeof options?.[tier]?.get !== 'function') {
        throw new CacheOptionError(
          `TieredStore: option "${tier}" is required and must implement CacheStore`,
          {
            option: tier,
          },
        )
      }
    }
    this.l1 = options.l1
    this.l2 = options.l2
    this.bus = options.bus
    this.name = options.name ?? 'tiered'
    this.now = options.now ?? Date.now
    this.degradedMs = parseDuration(options.degradedL1Ttl ?? '5s', 'degradedL1Ttl')
    this.busUp = this.bus === undefined || this.bus.isConnected()
    this.busDownAt = this.now()
    const pairs =
      options.publishOnL2Connection === true &&
      this.l2.setAndPublish !== undefined &&
      this.l2.canPublishWithWrite !== false &&
      this.bus?.handOff !== undefined
    this.handOffBus = pairs ? (this.bus as Required<Pick<InvalidationBus, 'handOff'>>) : undefined
    if (options.lock !== undefined && options.lock !== false) this.lock = options.lock
    else if (options.lock === undefined && this.bus instanceof RedisBus) {
      this.lock = new RedisLock({
        client: this.bus.client,
        lockPrefix: `${this.bus.prefix.replace(/:$/, '')}#lock:`,
        read: (key) => this.get(key),
        onKeyNotice: (key, callback) => this.onKeyNotice(key, callback),
        now: this.now,
      })
    }
    if (this.bus !== undefined) this.unsubscribes.push(this.bus.subscribe((event) => this.onBusEvent(event)))
    for (const tier of [this.l1, this.l2]) {
      const unsubscribe = tier.subscribe?.((event) => {
        if (tier === this.l2 && event.type === 'error') this.onL2Error(event.key, event.operation)
        this.emit(event)
      })
      if (unsubscribe !== undefined) this.unsubscribes.push(unsubscribe)
    }
  }

  // ---- reads ------------------------------------------------------------------------------------

  /** L1 only, synchronously; misses while L1 is distrusted. */
  peek<T>(key: string, at?: number): CacheEntry<T> | undefined {
    if (this.closed) return undefined
    if (!this.busUp) this.enforceDegradedTtl()
    return this.l1.peek?.<T>(key, at)
  }

  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    this.assertOpen()
    if (!this.busUp) this.enforceDegradedTtl()
    const local = this.l1.peek !== undefined ? this.l1.peek<T>(key) : await this.l1.get<T>(key)
    if (local !== undefined && this.now() < local.expiresAt) return local
    const ticket = this.begin(key, false)
    let entry: CacheEntry<T> | undefined
    try {
      entry = await this.l2.get<T>(key)
    } finally {
      this.end(ticket, false)
    }
    if (entry === undefined) {
      // L2 missed or is down: an L1 entry within grace is still better than nothing.
      return local
    }
    if (this.mayFill(ticket)) await this.writeL1(key, entry)
    return entry
  }

  /** L1 for each key, then one batched L2 read (`getMany` where L2 has it) for the rest; same order as `keys`. */
  async getMany<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]> {
    this.assertOpen()
    if (!this.busUp) this.enforceDegradedTtl()
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
    const tickets = missingKeys.map((key) => this.begin(key, false))
    let entries: (CacheEntry<T> | undefined)[]
    try {
      entries =
        this.l2.getMany !== undefined
          ? await this.l2.getMany<T>(missingKeys)
          : await Promise.all(missingKeys.map((key) => this.l2.get<T>(key)))
    } finally {
      for (const ticket of tickets) this.end(ticket, false)
    }
    for (let j = 0; j < missing.length; j++) {
      const i = missing[j]!
      const entry = entries[j]
      if (entry === undefined) {
        results[i] = locals[i]
        continue
      }
      if (this.mayFill(tickets[j]!)) await this.writeL1(missingKeys[j]!, entry)
      results[i] = entry
    }
    return results
  }

  // ---- writes -----------------------------------------------------------------------------------

  async set<T>(key: string, entry: CacheEntry<T>): Promise<void> {
    this.assertOpen()
    const invalidation: Invalidation = { kind: 'key', keys: [key] }
    const handOff = this.handOffBus?.handOff(invalidation)
    const ticket = this.begin(key, true)
    let published = false
    try {
      // Bad input (unserializable, too large) throws here, before L1 changes or any I/O: nothing is lost.
      if (handOff !== undefined) {
        published = await this.l2.setAndPublish!(key, entry, handOff.channel, handOff.message)
      } else await this.l2.set(key, entry)
      // Another write or invalidation of this key overlapped ours: who wins in L2 is unknown, so drop L1's copy.
      // An L2 that could not take the write leaves L1 the only copy: keep it no longer than degradedL1Ttl.
      if (this.isCurrent(ticket)) await this.writeL1(key, entry, ticket.activity.l2WriteFailed === true)
      else await this.l1.delete(key).catch(() => false)
    } finally {
      this.end(ticket, true)
    }
    // Not published with the write (Redis is sick): the bus queues it; no second wait on that server.
    if (handOff === undefined) await this.publish(invalidation)
    else await handOff.settled(published)
  }

  /** One batched L2 write (`setMany` where L2 has it; nothing is written if any value is refused), then L1, then one bus message. */
  async setMany<T>(entries: readonly [string, CacheEntry<T>][]): Promise<void> {
    this.assertOpen()
    if (entries.length === 0) return
    const tickets = entries.map(([key]) => this.begin(key, true))
    try {
      if (this.l2.setMany !== undefined) await this.l2.setMany(entries)
      else for (const [key, entry] of entries) await this.l2.set(key, entry)
      for (let j = 0; j < entries.length; j++) {
        const [key, entry] = entries[j]!
        const ticket = tickets[j]!
        if (this.isCurrent(ticket)) await this.writeL1(key, entry, ticket.activity.l2WriteFailed === true)
        else await this.l1.delete(key).catch(() => false)
      }
    } finally {
      for (const ticket of tickets) this.end(ticket, true)
    }
    await this.publish({ kind: 'key', keys: [...new Set(entries.map(([key]) => key))] })
  }

  async delete(key: string): Promise<boolean> {
    this.assertOpen()
    const ticket = this.begin(key, true)
    let deleted: boolean
    try {
      const available = this.l2Available()
      const fromL2 = await this.l2.delete(key)
      const fromL1 = await this.l1.delete(key)
      deleted = available ? fromL2 : fromL1
    } finally {
      this.end(ticket, true)
    }
    await this.publish({ kind: 'key', keys: [key] })
    return deleted
  }

  async deletePattern(pattern: string): Promise<number> {
    this.assertOpen()
    this.bumpMatching(pattern)
    const available = this.l2Available()
    let count: number
    try {
      const fromL2 = await this.l2.deletePattern(pattern)
      const fromL1 = await this.l1.deletePattern(pattern)
      count = available ? fromL2 : fromL1
    } finally {
      this.bumpMatching(pattern)
    }
    await this.publish({ kind: 'pattern', pattern })
    return count
  }

  async deleteTags(tags: readonly string[]): Promise<number> {
    this.assertOpen()
    this.globalEpoch++
    const available = this.l2Available()
    let count: number
    try {
      const fromL2 = await this.l2.deleteTags(tags)
      const fromL1 = await this.l1.deleteTags(tags)
      count = available ? fromL2 : fromL1
    } finally {
      this.globalEpoch++
    }
    if (tags.length > 0) await this.publish({ kind: 'tags', tags })
    return count
  }

  async clear(): Promise<void> {
    this.assertOpen()
    this.globalEpoch++
    try {
      await this.l2.clear()
      await this.l1.clear()
    } finally {
      this.globalEpoch++
    }
    await this.publish({ kind: 'clear' })
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
  async stats(): Promise<TierStats[]> {
    const [l1, l2] = await Promise.all([tierStats(this.l1), tierStats(this.l2)])
    const rows = [...l1, ...l2]
    if (this.bus !== undefined) {
      rows.push({ tier: 'bus', available: this.bus.isConnected(), details: { ...this.bus.counters() } })
    }
    return rows
  }

  /** L1's checks, then L2's and the bus's marked optional: without them the cache is degraded, not down. */
  async health(): Promise<TierHealth[]> {
    const [l1, l2] = await Promise.all([tierHealth(this.l1), tierHealth(this.l2)])
    const checks = [...l1, ...l2.map((check) => ({ ...check, optional: true }))]
    if (this.bus !== undefined) {
      const up = this.bus.isConnected()
      checks.push({
        tier: 'bus',
        status: up ? 'up' : 'down',
        optional: true,
        ...(up
          ? {}
          : { message: 'invalidation bus disconnected: L1 entries are served for degradedL1Ttl at most' }),
      })
    }
    return checks
  }

  /** L1's and L2's own events, bus state changes, and one `invalidate` event per invalidation applied from the bus. */
  subscribe(listener: StoreEventListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
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

  private begin(key: string, writing: boolean): Ticket {
    let activity = this.activity.get(key)
    if (activity === undefined) {
      activity = { users: 0, writers: 0, epoch: 0 }
      this.activity.set(key, activity)
    }
    activity.users++
    if (writing) {
      activity.writers++
      activity.epoch++
    }
    return { key, activity, epoch: activity.epoch, global: this.globalEpoch }
  }

  private end(ticket: Ticket, writing: boolean): void {
    const { activity } = ticket
    if (writing) {
      if (--activity.writers === 0) activity.l2WriteFailed = false
      // Reads that started while we wrote may hold the old value: they must not fill L1.
      activity.epoch++
    }
    if (--activity.users === 0 && this.activity.get(ticket.key) === activity) this.activity.delete(ticket.key)
  }

  /** No invalidation or write of the key, and nothing global, since the ticket was taken. */
  private isCurrent(ticket: Ticket): boolean {
    return ticket.activity.epoch === ticket.epoch && ticket.global === this.globalEpoch
  }

  private mayFill(ticket: Ticket): boolean {
    return this.isCurrent(ticket) && ticket.activity.writers === 0
  }

  private onL2Error(key: string | undefined, operation: string): void {
    if (key !== undefined) {
      const activity = this.activity.get(key)
      if (activity !== undefined && activity.writers > 0) activity.l2WriteFailed = true
    } else if (operation === 'setMany') {
      // A failed batch names no key: every write in flight may be the one that failed.
      for (const activity of this.activity.values()) if (activity.writers > 0) activity.l2WriteFailed = true
    }
  }

  private bumpKey(key: string): void {
    const activity = this.activity.get(key)
    if (activity !== undefined) activity.epoch++
  }

  private bumpMatching(pattern: string): void {
    const matches = globMatcher(pattern)
    for (const [key, activity] of this.activity) if (matches(key)) activity.epoch++
  }

  /**
   * Writes into L1, with the TTL clamped to degradedL1Ttl while invalidations may not reach us. An
   * entry L2 just decoded for this read (it says how many bytes of JSON it came from) is handed to
   * L1's `fill`, which freezes its value in place instead of serializing and parsing a copy.
   */
  private async writeL1(key: string, entry: CacheEntry, l2Failed = false): Promise<void> {
    // Read before the spread below, which does not copy the (non-enumerable) mark.
    const ownedBytes = this.l1.fill === undefined ? undefined : decodedValueBytes(entry)
    let { tier: _, ...copy } = entry
    if (l2Failed || !this.busUp || !this.l2Available()) {
      const until = this.now() + this.degradedMs
      if (copy.staleUntil > until)
        copy = { ...copy, staleUntil: until, expiresAt: Math.min(copy.expiresAt, until) }
    }
    try {
      if (ownedBytes !== undefined) await this.l1.fill!(key, copy, ownedBytes)
      else await this.l1.set(key, copy)
    } catch (error) {
      // L1 refused it (e.g. over its maxBytes): never keep the previous copy in its place.
      await this.l1.delete(key).catch(() => false)
      this.emit({ type: 'error', operation: 'set', tier: this.l1.name, error, key })
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

  /** While the bus is down: entries written before it went down are served for degradedL1Ttl at most. */
  private enforceDegradedTtl(): void {
    if (this.degradedPurged || this.now() < this.busDownAt + this.degradedMs) return
    this.degradedPurged = true
    // +1: an entry written in the very millisecond of the drop is not known to be safe either.
    this.purgeL1(this.busDownAt + 1)
  }

  /** Drops L1 entries written before `before` (all of them without purgeWrittenBefore). Synchronous for MemoryStore. */
  private purgeL1(before: number): void {
    this.globalEpoch++
    try {
      if (this.l1.purgeWrittenBefore !== undefined) this.l1.purgeWrittenBefore(before)
      else void this.l1.clear().catch(() => {})
    } catch {
      void this.l1.clear().catch(() => {})
    }
  }

  private onBusEvent(event: BusEvent): void {
    if (this.closed) return
    if (event.type === 'invalidation') {
      this.applyRemote(event.invalidation)
      return
    }
    switch (event.state) {
      case 'connected':
        // We cannot know what was published while we were not subscribed: nothing in L1 is trusted.
        this.busUp = true
        this.purgeL1(this.now() + 1)
        break
      case 'disconnected':
        this.busUp = false
        this.busDownAt = this.now()
        this.degradedPurged = false
        this.globalEpoch++
        break
      case 'gap':
        this.purgeL1(this.now() + 1)
        break
      case 'dropped':
        break
    }
    this.emit({
      type: 'bus',
      state: event.state,
      ...(event.reason === undefined ? {} : { reason: event.reason }),
      ...(event.dropped === undefined ? {} : { dropped: event.dropped }),
    })
  }

  private applyRemote(invalidation: Invalidation): void {
    // Bumps first and synchronously: a read in flight now must not fill L1 when it lands.
    const l1 = this.l1
    const failed = (error: unknown) =>
      this.emit({ type: 'error', operation: 'invalidate', tier: l1.name, error })
    let event: StoreEvent
    switch (invalidation.kind) {
      case 'key':
        for (const key of invalidation.keys) {
          this.bumpKey(key)
          void l1.delete(key).catch(failed)
          this.notifyKey(key)
        }
        event = { type: 'invalidate', kind: 'key', source: 'bus', keys: invalidation.keys }
        break
      case 'pattern':
        this.bumpMatching(invalidation.pattern)
        void l1.deletePattern(invalidation.pattern).catch(failed)
        event = { type: 'invalidate', kind: 'pattern', source: 'bus', pattern: invalidation.pattern }
        break
      case 'tags':
        this.globalEpoch++
        void l1.deleteTags(invalidation.tags).catch(failed)
        event = { type: 'invalidate', kind: 'tags', source: 'bus', tags: invalidation.tags }
        break
      case 'clear':
        this.globalEpoch++
        void l1.clear().catch(failed)
        event = { type: 'invalidate', kind: 'clear' satisfies InvalidationKind, source: 'bus' }
        break
    }
    this.emit(event)
  }

  private onKeyNotice(key: string, callback: () => void): () => void {
    let callbacks = this.keyNotices.get(key)
    if (callbacks === undefined) {
      callbacks = new Set()
      this.keyNotices.set(key, callbacks)
    }
    callbacks.add(callback)
    return () => {
      const current = this.keyNotices.get(key)
      if (current === undefined) return
      current.delete(callback)
      if (current.size === 0) this.keyNotices.delete(key)
    }
  }

  private notifyKey(key: string): void {
    const callbacks = this.keyNotices.get(key)
    if (callbacks !== undefined) for (const callback of [...callbacks]) callback()
  }

  private emit(event: StoreEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // The Cache isolates its own listeners; this only guards against a raw subscriber.
      }
    }
  }
}

async function tierStats(store: CacheStore): Promise<TierStats[]> {
  try {
    return (await store.stats?.()) ?? [{ tier: store.name, available: true }]
  } catch (error) {
    return [{ tier: store.name, available: false, details: { error: String(error) } }]
  }
}

async function tierHealth(store: CacheStore): Promise<TierHealth[]> {
  try {
    return (await store.health?.()) ?? [{ tier: store.name, status: 'up' }]
  } catch (error) {
    return [{ tier: store.name, status: 'down', message: String(error) }]
  }
}
