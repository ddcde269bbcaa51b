import { randomBytes } from 'node:crypto'
import { CacheOptionError } from '@strata-cache/core'
import { ListenerSet } from '@strata-cache/core/internal'
import { isValidInstanceId } from './bus-message.ts'
import type { BusCounters, BusEvent, BusListener, Invalidation, InvalidationBus } from './invalidation.ts'
import { PublishQueue } from './publish-queue.ts'
import { SequenceTracker } from './sequence-tracker.ts'

/** What the hub hands a member bus: one message, numbered in its sender's sequence. */
interface HubMember {
  readonly instanceId: string
  deliver(invalidation: Invalidation, from: string, seq: number): void
}

/** Each hub's members and how many messages it is to lose, out of the hub's public surface. */
const hubs = new WeakMap<MemoryBusHub, { members: Set<HubMember>; losing: number }>()

/**
 * What the {@link MemoryBus}es of one process share, as RedisBuses share a Redis channel. Also
 * where a test makes messages get lost.
 */
export class MemoryBusHub {
  constructor() {
    hubs.set(this, { members: new Set(), losing: 0 })
  }

  /**
   * Loses the next `count` messages published on the hub, for every receiver. Their sender's
   * sequence still moves, so each receiver sees a gap when that sender's next message arrives.
   */
  loseNext(count = 1): void {
    hubs.get(this)!.losing += count
  }
}

/** Hands one message to every member of the hub but its sender, unless it is to be lost. */
function broadcast(hub: MemoryBusHub, invalidation: Invalidation, from: HubMember, seq: number): void {
  const state = hubs.get(hub)!
  if (state.losing > 0) {
    state.losing--
    return
  }
  for (const member of [...state.members]) {
    if (member !== from) member.deliver(invalidation, from.instanceId, seq)
  }
}

/** Options of {@link MemoryBus}. */
export interface MemoryBusOptions {
  /** Buses on the same hub hear each other. @default a hub of its own */
  hub?: MemoryBusHub
  /** This bus's id: 1 to 64 of `A-Z a-z 0-9 _ . -`. @default a random id */
  instanceId?: string
  /** Invalidations kept while disconnected; past this they collapse into one `clear`. @default 1000 */
  maxPending?: number
  /** Whether the bus starts connected. @default true */
  connected?: boolean
}

/**
 * An {@link InvalidationBus} within one process: the stores whose buses share a hub tell each other
 * of their writes and invalidations, synchronously. It behaves as a RedisBus does (sequence numbers
 * and gaps, a queue while disconnected, `connected` after a drop) and lets a test cause what Redis
 * would: `disconnect()`, `connect()`, and `hub.loseNext()` for a gap. No Redis needed.
 */
export class MemoryBus implements InvalidationBus {
  readonly instanceId: string
  /** The hub this bus publishes on and hears from. */
  readonly hub: MemoryBusHub
  private readonly listeners = new ListenerSet<BusEvent>('memory bus')
  private readonly incoming = new SequenceTracker()
  private readonly queue: PublishQueue
  private readonly member: HubMember
  private readonly stats: BusCounters = {
    sent: 0,
    received: 0,
    dropped: 0,
    rejected: 0,
    gaps: 0,
    reconnects: 0,
  }
  private seq = 0
  private connected: boolean
  private closed = false
  private readyWaiters: (() => void)[] = []

  constructor(options: MemoryBusOptions = {}) {
    this.instanceId = options.instanceId ?? randomBytes(8).toString('hex')
    if (!isValidInstanceId(this.instanceId)) {
      throw new CacheOptionError(
        `MemoryBus: option "instanceId" must be 1 to 64 of A-Z a-z 0-9 _ . - (got "${String(options.instanceId)}")`,
        { option: 'instanceId' },
      )
    }
    this.hub = options.hub ?? new MemoryBusHub()
    this.connected = options.connected ?? true
    this.queue = new PublishQueue({
      maxPending: options.maxPending ?? 1000,
      send: async (invalidation) => {
        this.stats.sent++
        broadcast(this.hub, invalidation, this.member, ++this.seq)
      },
      isReady: () => this.connected && !this.closed,
    })
    this.member = {
      instanceId: this.instanceId,
      deliver: (invalidation, from, seq) => this.receive(invalidation, from, seq),
    }
    hubs.get(this.hub)!.members.add(this.member)
  }

  /** Hands the invalidation to the hub's other buses now, or queues it while disconnected. Never rejects. */
  publish(invalidation: Invalidation): Promise<void> {
    return this.queue.publish(invalidation)
  }

  /** Adds a listener of invalidations from other pods and of state changes; returns the function that removes it. */
  subscribe(listener: BusListener): () => void {
    return this.listeners.add(listener)
  }

  /** True while subscribed: invalidations reach this process. */
  isConnected(): boolean {
    return this.connected
  }

  /** Resolves true once subscribed, false when `timeoutMs` passes first. (default 5000 ms) */
  ready(timeoutMs = 5000): Promise<boolean> {
    if (this.connected) return Promise.resolve(true)
    return new Promise((resolve) => {
      const waiter = () => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter)
        resolve(false)
      }, timeoutMs)
      this.readyWaiters.push(waiter)
    })
  }

  /** Messages sent, received, dropped; gaps and reconnects seen; invalidations waiting to be published. */
  counters(): BusCounters & { pending: number } {
    return { ...this.stats, pending: this.queue.size }
  }

  /**
   * Simulates a lost connection: reports `disconnected`; what the hub carries meanwhile never
   * reaches this bus, and what it publishes waits in its queue.
   */
  disconnect(reason = 'disconnected by the test'): void {
    if (!this.connected || this.closed) return
    this.connected = false
    this.listeners.emit({ type: 'state', state: 'disconnected', reason })
  }

  /**
   * Simulates the connection coming back: reports `connected` (the store drops its L1), then
   * publishes what waited; resolves once it has.
   */
  connect(): Promise<void> {
    if (this.connected || this.closed) return Promise.resolve()
    this.connected = true
    this.incoming.reset()
    this.stats.reconnects++
    this.listeners.emit({ type: 'state', state: 'connected' })
    for (const waiter of this.readyWaiters.splice(0)) waiter()
    return this.queue.reconnected()
  }

  /** Publishes what waits (when connected) and leaves the hub. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    await this.queue.close()
    this.closed = true
    this.connected = false
    hubs.get(this.hub)!.members.delete(this.member)
    this.listeners.clear()
  }

  private receive(invalidation: Invalidation, from: string, seq: number): void {
    if (!this.connected || this.closed) return
    this.stats.received++
    const expected = this.incoming.observe(from, seq)
    if (expected !== undefined) {
      this.stats.gaps++
      this.listeners.emit({
        type: 'state',
        state: 'gap',
        reason: `instance ${from}: expected sequence ${expected}, got ${seq}`,
      })
    }
    this.listeners.emit({ type: 'invalidation', invalidation, from, seq })
  }
}
