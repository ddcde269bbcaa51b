import {
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  type CacheStore,
  type CacheTracing,
  type ChannelTransport,
  type DistributedLock,
  type LoadToken,
  type LockLease,
  type StoreEvent,
  type StoreEventListener,
  type TierHealth,
  type TierStats,
} from '@strata-cache/core'
import { ListenerSet } from '@strata-cache/core/internal'
import { DegradedL1 } from './degraded-l1.ts'
import { FillGuard } from './fill-guard.ts'
import type { Invalidation, InvalidationBus } from './invalidation.ts'
import { ADMIT_ALL, type L1Admission, MAX_ADMISSION_WINDOW, SeenTwice } from './l1-admission.ts'
import { L2Repairs } from './l2-repairs.ts'
import { RemoteInvalidations } from './remote-invalidations.ts'
import { RepairReplay } from './repair-replay.ts'
import { tieredHealth, tieredStats } from './tier-report.ts'
import { TieredReads } from './tiered-reads.ts'
import {
  type FencedL2,
  isFenced,
  type L1Store,
  type L2Store,
  resolveTieredStoreOptions,
  type TieredStoreOptions,
} from './tiered-store-options.ts'
import { TieredWrites } from './tiered-writes.ts'

/** New keys a first sighting is remembered for when L1 does not say how many entries it holds. */
const DEFAULT_ADMISSION_WINDOW = 10_000

/**
 * L1 + L2 + an invalidation bus. Reads L1, then L2 (filling L1 with keys admission lets in: by default
 * a key's second L2 hit within a window, see SeenTwice); a `set` writes L1 (this pod reads its own
 * write at once), then L2, then tells the other pods (with `publishOnL2Connection`, in the L2 write's
 * own round trip, run right after the write); a loader's result goes to L2, then L1 (see TieredWrites). Never puts into L1 a value whose read overlapped an invalidation of its key
 * (see FillGuard), and distrusts L1 whenever the bus may have lost a message (see DegradedL1).
 */
export class TieredStore implements CacheStore {
  readonly name: string
  readonly l1: L1Store
  readonly l2: L2Store
  readonly bus: InvalidationBus | undefined
  readonly lock: DistributedLock | undefined
  /** Application channels (option `channels`), relayed as `channel` events and closed with the store. */
  readonly channels: ChannelTransport | undefined
  private readonly now: () => number
  /** The bus, when a `set`'s invalidation goes on L2's connection (`publishOnL2Connection` and both sides can). */
  private readonly followingBus: Required<Pick<InvalidationBus, 'followWrite'>> | undefined
  private readonly guard = new FillGuard()
  private readonly degraded: DegradedL1
  private readonly remote: RemoteInvalidations
  private readonly listeners = new ListenerSet<StoreEvent>('tiered store')
  private readonly unsubscribes: (() => void)[] = []
  private readonly publishing = new Set<Promise<void>>()
  /** L2 with fenced writes (a RedisStore): outcomes are known, failures are replayed. */
  private readonly fenced: FencedL2 | undefined
  /** Removals L2 has not confirmed (in flight, or failed and waiting for replay). */
  private readonly repairs: L2Repairs
  private readonly replay: RepairReplay
  private readonly writes: TieredWrites
  private readonly reads: TieredReads
  /** Which values from L2 (or a loader) enter L1 (option `l1Admission`); a pod's own `set` always does. */
  private readonly admission: L1Admission
  private closed = false

  constructor(options: TieredStoreOptions) {
    const resolved = resolveTieredStoreOptions(options)
    this.l1 = options.l1
    this.l2 = options.l2
    this.bus = options.bus
    this.name = resolved.name
    this.now = resolved.now
    const busUp = this.bus === undefined || this.bus.isConnected()
    this.degraded = new DegradedL1(
      this.l1,
      this.guard,
      resolved.degradedL1TtlMs,
      this.now,
      busUp,
      resolved.maxL1TtlMs,
    )
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
    this.fenced = isFenced(this.l2) ? this.l2 : undefined
    this.repairs = new L2Repairs(resolved.maxRepairs)
    this.replay = new RepairReplay({
      repairs: this.repairs,
      invalidate: (invalidation) => this.fenced!.invalidate(invalidation),
      l2Available: () => this.l2Available(),
      publish: (invalidation) => this.publish(invalidation),
      emit: (event) => this.listeners.emit(event),
      l2Name: this.l2.name,
    })
    const doorkeeper =
      resolved.l1Admission === 'always'
        ? undefined
        : new SeenTwice(
            resolved.l1AdmissionWindow ??
              Math.min(this.l1.maxEntries ?? DEFAULT_ADMISSION_WINDOW, MAX_ADMISSION_WINDOW),
          )
    this.admission = doorkeeper ?? ADMIT_ALL
    this.writes = new TieredWrites({
      loadDoorkeeper: resolved.l1LoadAdmission === 'seen-twice' ? doorkeeper : undefined,
      l1: this.l1,
      l2: this.l2,
      fenced: this.fenced,
      followingBus: this.followingBus,
      guard: this.guard,
      repairs: this.repairs,
      replay: this.replay,
      degraded: this.degraded,
      now: this.now,
      l2Available: () => this.l2Available(),
      publish: (invalidation) => this.publish(invalidation),
      emit: (event) => this.listeners.emit(event),
    })
    this.reads = new TieredReads({
      l1: this.l1,
      l2: this.l2,
      guard: this.guard,
      repairs: this.repairs,
      writes: this.writes,
      admission: this.admission,
      doorkeeper,
      now: this.now,
    })
    const lock = options.lock
    if (typeof lock === 'function') this.lock = lock(this)
    else if (lock !== undefined && lock !== false) this.lock = lock
    const bus = this.bus?.subscribe((event) => {
      if (!this.closed) this.remote.handle(event)
    })
    if (bus !== undefined) this.unsubscribes.push(bus)
    this.channels = options.channels
    const channels = this.channels?.on?.((event) => this.listeners.emit({ type: 'channel', ...event }))
    if (channels !== undefined) this.unsubscribes.push(channels)
    for (const tier of [this.l1, this.l2]) {
      const unsubscribe = tier.subscribe?.((event) => {
        if (tier === this.l2 && event.type === 'error') this.onL2Error(event.key, event.operation)
        // L2 answers again: apply what it missed, then tell the other pods.
        if (tier === this.l2 && event.type === 'breaker' && event.state === 'closed') void this.replay.kick()
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

  /**
   * L1 when fresh there, else L2: filling L1 when admission lets the key in (option `l1Admission`)
   * and no invalidation or write of it overlapped the read; an L1 entry within grace when L2 misses.
   */
  get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    // Not async (one promise fewer per read), so what throws must reject like an async method would.
    try {
      this.assertOpen()
      this.degraded.enforce()
      return this.reads.get<T>(key)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** L1 for each key, then one batched L2 read (`getMany` where L2 has it) for the rest; same order as `keys`. */
  async getMany<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]> {
    this.assertOpen()
    this.degraded.enforce()
    return this.reads.getMany<T>(keys)
  }

  // ---- writes -----------------------------------------------------------------------------------

  /**
   * L1 first (this pod reads its own write while it travels), then L2, then the other pods are told
   * (in L2's round trip with `publishOnL2Connection`). A write L2 could not take leaves L1's copy for
   * degradedL1Ttl at most, and a delete of the key queued for L2, applied (then announced) once it
   * answers: no older value survives in L2.
   */
  async set<T>(key: string, entry: CacheEntry<T>): Promise<void> {
    this.assertOpen()
    return this.writes.set(key, entry)
  }

  /** Marks the start of a load of `key`: L2's clock now, for the fill's fence (see setLoaded). */
  startLoad(_key: string): LoadToken {
    return this.fenced?.loadStart()
  }

  /**
   * A loader's result: written to L2 unless the key, its tags, a matching pattern or the prefix
   * changed since `startLoad` (another pod's write or invalidation: its data is newer), or the lock
   * lease was lost (checked in the same script). Dropped results leave L1 without the key.
   */
  setLoaded<T>(key: string, entry: CacheEntry<T>, token: LoadToken, lease?: LockLease): Promise<boolean> {
    this.assertOpen()
    return this.writes.setLoaded(key, entry, token, lease)
  }

  /**
   * `setLoaded` for a batch (getOrSetMany): one pipelined batch of fenced L2 writes, each judged
   * against its own token, then L1, then one bus message for what L2 took. Nothing is written if any
   * value is refused.
   */
  setLoadedMany<T>(entries: readonly [string, CacheEntry<T>, LoadToken][]): Promise<boolean[]> {
    this.assertOpen()
    return entries.length === 0 ? Promise.resolve([]) : this.writes.setLoadedMany(entries)
  }

  /** One batched L2 write (nothing is written if any value is refused), then L1, then one bus message for what L2 took. */
  async setMany<T>(entries: readonly [string, CacheEntry<T>][]): Promise<void> {
    this.assertOpen()
    if (entries.length === 0) return
    return this.writes.setMany(entries)
  }

  /** Removes the key from L2 and L1 and tells the other pods; true when L2 held it (L1 while L2 is unavailable). */
  async delete(key: string): Promise<boolean> {
    this.assertOpen()
    return this.writes.removeFromBoth(
      { kind: 'key', keys: [key] },
      () => this.l2.delete(key),
      () => this.l1.delete(key),
    )
  }

  /** Removes the keys from L2 (one round trip) and L1 and tells the other pods in one message; returns how many L2 held (L1's count while L2 is unavailable). */
  async deleteMany(keys: readonly string[]): Promise<number> {
    this.assertOpen()
    return keys.length === 0 ? 0 : this.writes.deleteMany(keys)
  }

  /** Removes the keys matching the glob from L2 and L1 and tells the other pods; returns L2's count (L1's while L2 is unavailable). */
  async deletePattern(pattern: string): Promise<number> {
    this.assertOpen()
    return this.writes.removeFromBoth(
      { kind: 'pattern', pattern },
      () => this.l2.deletePattern(pattern),
      () => this.l1.deletePattern(pattern),
    )
  }

  /** Removes the entries carrying any of the tags from L2 and L1 and tells the other pods; returns L2's count (L1's while L2 is unavailable). */
  async deleteTags(tags: readonly string[]): Promise<number> {
    this.assertOpen()
    return this.writes.removeFromBoth(
      { kind: 'tags', tags },
      () => this.l2.deleteTags(tags),
      () => this.l1.deleteTags(tags),
      tags.length > 0,
    )
  }

  /** Clears L2 (this prefix only) and L1 and tells the other pods to clear theirs. */
  async clear(): Promise<void> {
    this.assertOpen()
    await this.writes.removeFromBoth(
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
    // One last try at what L2 missed; what stays is lost with the process (see the README).
    await this.replay.kick()
    this.replay.stop()
    await Promise.allSettled([...this.publishing])
    await this.channels?.close?.()
    await this.bus?.close()
    await Promise.allSettled([this.l1.close(), this.l2.close()])
    this.listeners.clear()
  }

  // ---- observing --------------------------------------------------------------------------------

  /** L1's and L2's rows, plus a `bus` row whose details are `{ sent, received, dropped, gaps, reconnects, pending }`. */
  stats(): Promise<TierStats[]> {
    return tieredStats(this.l1, this.l2, this.bus, this.fenced === undefined ? undefined : this.repairs)
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

  /** Spans L2's round trips with this hook (`Cache.trace` with `storeSpans`); undefined stops. */
  trace(tracing: CacheTracing | undefined): void {
    this.l2.trace?.(tracing)
  }

  /**
   * Resolves true once the bus is connected and L2 has a ready connection (each at once when there
   * is none, or when L2 cannot say), false when either is not within `timeoutMs`. Before both, a
   * write's L1 copy is kept no longer than degradedL1Ttl: L1 cannot trust what it is not told.
   */
  async ready(timeoutMs?: number): Promise<boolean> {
    const [bus, l2] = await Promise.all([
      this.bus === undefined ? true : this.bus.ready(timeoutMs),
      this.l2.ready === undefined ? true : this.l2.ready(timeoutMs),
    ])
    return bus && l2
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
