import { randomBytes } from 'node:crypto'
import {
  assertKnownOptions,
  CacheOptionError,
  type Duration,
  isValidKey,
  parseDuration,
} from '@strata-cache/core'
import { corkUntilNextTick } from '@strata-cache/redis'
import { Redis, type RedisOptions } from 'ioredis'
import {
  BUS_PROTOCOL_VERSION,
  busMessageHead,
  busSender,
  decodeBusMessage,
  encodeBusMessage,
  isValidInstanceId,
} from './bus-message.ts'
import type {
  BusCounters,
  BusEvent,
  BusHandOff,
  BusListener,
  Invalidation,
  InvalidationBus,
} from './invalidation.ts'

export interface RedisBusOptions {
  /** `redis://[:password@]host:port[/db]`. Either this or `redis`. */
  url?: string
  /** ioredis options for both bus connections (merged over the url). */
  redis?: RedisOptions
  /** Key prefix of the store the bus serves; the channel is `<prefix>bus`. @default 'strata:' */
  prefix?: string
  /** This process's id on the bus: 1 to 64 of `A-Z a-z 0-9 _ . -`. @default a random id */
  instanceId?: string
  /** Invalidations kept for retry while Redis is down; past this the queue collapses to one `clear`. @default 1000 */
  maxPending?: number
  /** How often the subscriber connection is pinged; no answer within this long counts as a drop. @default '1s' */
  heartbeat?: Duration
  /** Deadline of a PUBLISH (and of lock commands sent over the publisher connection). @default '250ms' */
  commandTimeout?: Duration
  /** Hand invalidations synchronously to other buses of this process on the same url and channel. @default true */
  localDelivery?: boolean
}

const OPTIONS = [
  'url',
  'redis',
  'prefix',
  'instanceId',
  'maxPending',
  'heartbeat',
  'commandTimeout',
  'localDelivery',
] as const
/** Senders remembered for gap detection; the oldest is forgotten past this. */
const MAX_SENDERS = 10_000
const RETRY_MS = 200

/**
 * Buses in this process by Redis server and channel. A publish reaches these peers synchronously,
 * so two stores in one process see each other's invalidations before the call returns; their copy
 * from Redis is then ignored.
 */
const localPeers = new Map<string, Set<RedisBus>>()

/**
 * Invalidation bus over Redis pub/sub: a subscriber connection of its own and a publisher.
 * Tracks each sender's sequence numbers to detect lost messages, and reports every drop of the
 * subscriber connection (close, or a missed heartbeat) so the tiered store can distrust its L1.
 */
export class RedisBus implements InvalidationBus {
  readonly instanceId: string
  /** The pub/sub channel, `<prefix>bus`. */
  readonly channel: string
  readonly prefix: string
  /** The publisher connection: plain commands (the distributed lock uses it too). */
  readonly client: Redis
  private readonly subscriber: Redis
  private readonly listeners = new Set<BusListener>()
  private readonly lastSeq = new Map<string, number>()
  private readonly queue = new Map<string, Invalidation>()
  private readonly maxPending: number
  private readonly heartbeatMs: number
  private readonly commandTimeoutMs: number
  private readonly stats: BusCounters = { sent: 0, received: 0, dropped: 0, gaps: 0, reconnects: 0 }
  private seq = 0
  private connected = false
  private everConnected = false
  private connection = 0
  private publishHealthy = true
  private flushing = false
  private closed = false
  private retryTimer: NodeJS.Timeout | undefined
  private heartbeatTimer: NodeJS.Timeout | undefined
  private readyWaiters: (() => void)[] = []
  private readonly scope: string
  /** How our own messages begin, on the bus's connection and on a store's (see onMessage). */
  private readonly ownHeads: readonly [string, string]
  /** Last sequence number used on each stream handed off to a store's connection (see handOff). */
  private readonly streamSeq = new Map<number, number>()

  constructor(options: RedisBusOptions) {
    assertKnownOptions('RedisBus', options, OPTIONS)
    if (options.url === undefined && options.redis === undefined) {
      throw new CacheOptionError('RedisBus: give "url" or "redis" (ioredis options)', { option: 'url' })
    }
    if (options.url !== undefined && typeof options.url !== 'string') {
      throw new CacheOptionError(`RedisBus: option "url" must be a string, got ${typeof options.url}`, {
        option: 'url',
      })
    }
    this.prefix = options.prefix ?? 'strata:'
    if (!isValidKey(this.prefix)) {
      throw new CacheOptionError(
        `RedisBus: option "prefix" must be 1 to 256 of A-Z a-z 0-9 : _ - . (got "${String(this.prefix)}")`,
        { option: 'prefix' },
      )
    }
    this.instanceId = options.instanceId ?? randomBytes(8).toString('hex')
    if (!isValidInstanceId(this.instanceId)) {
      throw new CacheOptionError(
        `RedisBus: option "instanceId" must be 1 to 64 of A-Z a-z 0-9 _ . - (got "${String(options.instanceId)}")`,
        { option: 'instanceId' },
      )
    }
    this.maxPending = options.maxPending ?? 1000
    if (!Number.isInteger(this.maxPending) || this.maxPending < 1) {
      throw new CacheOptionError(
        `RedisBus: option "maxPending" must be an integer >= 1 (got ${String(options.maxPending)})`,
        {
          option: 'maxPending',
        },
      )
    }
    this.heartbeatMs = parseDuration(options.heartbeat ?? '1s', 'heartbeat')
    this.commandTimeoutMs = parseDuration(options.commandTimeout ?? '250ms', 'commandTimeout')
    this.channel = `${this.prefix}bus`
    // `1|<id>|` on the bus's connection, `1|<id>~` on any of its store's (see busSender).
    this.ownHeads = [busMessageHead(this.instanceId), `${BUS_PROTOCOL_VERSION}|${this.instanceId}~`]

    const base: RedisOptions = { ...options.redis, lazyConnect: true }
    const retryStrategy = (attempt: number) => Math.min(50 * 2 ** attempt, 1000)
    // Subscriber: we subscribe ourselves on every `ready`, so we know when delivery resumed.
    this.subscriber = connect(options.url, {
      ...base,
      autoResubscribe: false,
      maxRetriesPerRequest: null,
      connectTimeout: 2000,
      retryStrategy,
    })
    // Publisher: fail fast while down (no offline queue); our own queue retries, latest wins.
    this.client = connect(options.url, {
      ...base,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.commandTimeoutMs,
      connectTimeout: 2000,
      retryStrategy,
    })
    this.subscriber.on('ready', () => void this.onSubscriberReady())
    this.subscriber.on('close', () => this.onSubscriberDown('connection closed'))
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) this.onMessage(message)
    })
    // Connection errors surface as state changes ('disconnected'); without a listener ioredis logs them.
    this.subscriber.on('error', () => {})
    this.client.on('error', () => {})
    this.client.on('ready', () => {
      this.publishHealthy = true
      void this.flush()
    })
    this.subscriber.connect().catch(() => {})
    this.client.connect().catch(() => {})
    const server =
      options.url ??
      `${options.redis?.host ?? '127.0.0.1'}:${options.redis?.port ?? 6379}/${options.redis?.db ?? 0}`
    this.scope = `${server}|${this.channel}`
    if (options.localDelivery !== false) {
      let peers = localPeers.get(this.scope)
      if (peers === undefined) {
        peers = new Set()
        localPeers.set(this.scope, peers)
      }
      peers.add(this)
    }
  }

  publish(invalidation: Invalidation): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.deliverLocally(invalidation)
    if (this.queue.size > 0 || !this.publishHealthy || this.client.status !== 'ready') {
      this.enqueue(invalidation)
      return Promise.resolve()
    }
    return this.send(invalidation).then(
      () => {},
      () => {
        this.publishHealthy = false
        this.enqueue(invalidation)
      },
    )
  }

  /**
   * For a store that sends the PUBLISH itself, on its own Redis connection right behind a write:
   * Redis runs the two in order in one round trip, and its acknowledgement still means delivered.
   * `message(stream)` is the text to publish as the next message of that connection's stream (call it
   * when the PUBLISH is issued, once). Then `settled(true)` once Redis acknowledged it. `settled(false)`
   * (the write failed or was not attempted: Redis is sick) queues it for the bus's retry instead of
   * making the caller wait for another PUBLISH to the same sick server.
   */
  handOff(invalidation: Invalidation): BusHandOff {
    return {
      channel: this.channel,
      message: (stream) => {
        const seq = (this.streamSeq.get(stream) ?? 0) + 1
        this.streamSeq.set(stream, seq)
        return encodeBusMessage(this.instanceId, seq, invalidation, stream)
      },
      settled: (published) => {
        if (this.closed) return Promise.resolve()
        this.deliverLocally(invalidation)
        if (published) this.stats.sent++
        else this.enqueue(invalidation)
        return Promise.resolve()
      },
    }
  }

  subscribe(listener: BusListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  isConnected(): boolean {
    return this.connected
  }

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

  counters(): BusCounters & { pending: number } {
    return { ...this.stats, pending: this.queue.size }
  }

  /** Publishes what is still queued (best effort, bounded by the command timeout), then disconnects. */
  async close(): Promise<void> {
    if (this.closed) return
    if (this.queue.size > 0 && this.client.status === 'ready') await this.flush()
    this.closed = true
    const peers = localPeers.get(this.scope)
    peers?.delete(this)
    if (peers?.size === 0) localPeers.delete(this.scope)
    clearTimeout(this.retryTimer)
    clearInterval(this.heartbeatTimer)
    this.connected = false
    this.subscriber.disconnect()
    this.client.disconnect()
  }

  // ---- internals --------------------------------------------------------------------------------

  /** Hands the invalidation to the other buses of this process on the same server and channel. */
  private deliverLocally(invalidation: Invalidation): void {
    const peers = localPeers.get(this.scope)
    if (peers === undefined || peers.size < 2 || !peers.has(this)) return
    for (const peer of peers) {
      if (peer === this || peer.closed) continue
      peer.stats.received++
      peer.emit({ type: 'invalidation', invalidation, from: this.instanceId, seq: 0 })
    }
  }

  private isLocalPeer(instanceId: string): boolean {
    const peers = localPeers.get(this.scope)
    if (peers === undefined || peers.size < 2 || !peers.has(this)) return false
    for (const peer of peers) if (peer.instanceId === instanceId && peer !== this) return true
    return false
  }

  private send(invalidation: Invalidation): Promise<unknown> {
    const message = encodeBusMessage(this.instanceId, ++this.seq, invalidation)
    // This tick's PUBLISHes (concurrent writes finishing together) leave in one socket write.
    corkUntilNextTick(this.client)
    return this.client.publish(this.channel, message).then((n) => {
      this.stats.sent++
      return n
    })
  }

  /** Latest wins: a repeated invalidation moves to the end; past the bound, one `clear` covers them all. */
  private enqueue(invalidation: Invalidation): void {
    if (this.queue.has('c|')) return // a queued clear already covers everything
    const id = queueId(invalidation)
    this.queue.delete(id)
    this.queue.set(id, invalidation)
    if (invalidation.kind === 'clear' || this.queue.size > this.maxPending) {
      this.queue.clear()
      this.queue.set('c|', { kind: 'clear' })
    }
    this.scheduleRetry()
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.closed) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.flush()
    }, RETRY_MS)
    this.retryTimer.unref()
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.closed) return
    this.flushing = true
    try {
      while (this.queue.size > 0 && this.client.status === 'ready') {
        const [id, invalidation] = this.queue.entries().next().value as [string, Invalidation]
        try {
          await this.send(invalidation)
        } catch {
          this.publishHealthy = false
          break
        }
        // A newer copy may have been queued while this one was in flight: keep that one.
        if (this.queue.get(id) === invalidation) this.queue.delete(id)
        this.publishHealthy = true
      }
    } finally {
      this.flushing = false
    }
    if (this.queue.size > 0) this.scheduleRetry()
  }

  private async onSubscriberReady(): Promise<void> {
    const connection = ++this.connection
    try {
      await this.subscriber.subscribe(this.channel)
    } catch {
      return // the connection dropped again; the next `ready` retries
    }
    if (connection !== this.connection || this.closed) return
    // Sequences restart from whatever we see next: the store purges L1 on this event anyway.
    this.lastSeq.clear()
    this.connected = true
    if (this.everConnected) this.stats.reconnects++
    this.everConnected = true
    this.emit({ type: 'state', state: 'connected' })
    for (const waiter of this.readyWaiters.splice(0)) waiter()
    this.startHeartbeat()
  }

  private onSubscriberDown(reason: string): void {
    this.connection++
    clearInterval(this.heartbeatTimer)
    this.heartbeatTimer = undefined
    if (!this.connected || this.closed) return
    this.connected = false
    this.emit({ type: 'state', state: 'disconnected', reason })
  }

  /** A hung server (SIGSTOP) keeps the socket open: a missed PING is our only sign, so treat it as a drop. */
  private startHeartbeat(): void {
    clearInterval(this.heartbeatTimer)
    if (this.heartbeatMs === 0) return
    this.heartbeatTimer = setInterval(() => {
      if (!this.connected) return
      const connection = this.connection
      let answered = false
      const timer = setTimeout(() => {
        if (answered || connection !== this.connection) return
        this.onSubscriberDown(`no answer to PING within ${this.heartbeatMs} ms`)
        this.subscriber.disconnect(true)
      }, this.heartbeatMs)
      timer.unref()
      this.subscriber.ping().then(
        () => {
          answered = true
          clearTimeout(timer)
        },
        () => {},
      )
    }, this.heartbeatMs)
    this.heartbeatTimer.unref()
  }

  private onMessage(message: string): void {
    // Redis hands every message back to its sender too: skip our own before decoding it.
    if (message.startsWith(this.ownHeads[0]) || message.startsWith(this.ownHeads[1])) return
    const decoded = decodeBusMessage(message)
    if (!decoded.ok) {
      this.stats.dropped++
      this.emit({ type: 'state', state: 'dropped', reason: decoded.reason, dropped: this.stats.dropped })
      return
    }
    // One a peer in this process already handed us directly.
    if (this.isLocalPeer(decoded.instanceId)) return
    this.stats.received++
    // Each of a sender's streams (its bus connection, its store's connections) is ordered on its own.
    const sender = busSender(decoded.instanceId, decoded.stream)
    const last = this.lastSeq.get(sender)
    if (last !== undefined && decoded.seq !== last + 1) {
      this.stats.gaps++
      this.emit({
        type: 'state',
        state: 'gap',
        reason: `instance ${sender}: expected sequence ${last + 1}, got ${decoded.seq}`,
      })
    }
    this.lastSeq.delete(sender)
    this.lastSeq.set(sender, decoded.seq)
    if (this.lastSeq.size > MAX_SENDERS) this.lastSeq.delete(this.lastSeq.keys().next().value as string)
    this.emit({
      type: 'invalidation',
      invalidation: decoded.invalidation,
      from: decoded.instanceId,
      seq: decoded.seq,
    })
  }

  private emit(event: BusEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure must not stop delivery to the others.
      }
    }
  }
}

function connect(url: string | undefined, options: RedisOptions): Redis {
  return url === undefined ? new Redis(options) : new Redis(url, options)
}

function queueId(invalidation: Invalidation): string {
  switch (invalidation.kind) {
    case 'key':
      return `k|${invalidation.keys.join(',')}`
    case 'pattern':
      return `p|${invalidation.pattern}`
    case 'tags':
      return `t|${invalidation.tags.join(',')}`
    case 'clear':
      return 'c|'
  }
}
