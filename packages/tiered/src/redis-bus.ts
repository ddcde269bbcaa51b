import { randomBytes } from 'node:crypto'
import { ListenerSet } from '@strata-cache/core/internal'
import type { WriteConnection } from '@strata-cache/redis'
import { corkUntilNextTick, loadIoredis, reconnectDelay } from '@strata-cache/redis/internal'
import type { Cluster, Redis, RedisOptions } from 'ioredis'
import {
  BUS_PROTOCOL_VERSION,
  busMessageHead,
  busSender,
  decodeBusMessage,
  encodeBusMessage,
} from './bus-message.ts'
import { BusRejections, type RejectionReport } from './bus-rejections.ts'
import { BusSigner, SIGNED_HEAD_LENGTH } from './bus-signature.ts'
import { BusSubscriber } from './bus-subscriber.ts'
import { openClusterPublisher, publishSharded, shardOwnerConnector } from './cluster-bus.ts'
import { FollowBatches } from './follow-batches.ts'
import type {
  BusCounters,
  BusEvent,
  BusListener,
  Invalidation,
  InvalidationBus,
  WriteNotice,
} from './invalidation.ts'
import { LocalPeers } from './local-peers.ts'
import { PublishQueue } from './publish-queue.ts'
import { type RedisBusOptions, resolveRedisBusOptions } from './redis-bus-options.ts'
import { OutgoingSequences, SequenceTracker } from './sequence-tracker.ts'

/**
 * Invalidation bus over Redis pub/sub: a subscriber connection of its own (see BusSubscriber) and a
 * publisher. Tracks each sender's sequence numbers to detect lost messages, and reports every drop
 * of the subscriber connection (close, or a missed heartbeat) so the tiered store can distrust its L1.
 * With a `secret`, signs every message it sends and drops every one it receives without a valid
 * signature (see BusSigner): whoever can PUBLISH on Redis but lacks the secret changes nothing.
 */
export class RedisBus implements InvalidationBus {
  readonly instanceId: string
  /** The pub/sub channel, `<prefix>bus`. */
  readonly channel: string
  /** The key prefix of the store this bus serves. */
  readonly prefix: string
  /** The publisher connection: plain commands (createCache's RedisLock uses it too); a Cluster client on a cluster. */
  readonly client: Redis | Cluster
  /** On a cluster: the publisher, which SPUBLISHes (sharded pub/sub; see cluster-bus.ts). */
  private readonly cluster: Cluster | undefined
  /** Deadline of a PUBLISH and of the lock's commands, ms. @default 250 */
  readonly commandTimeoutMs: number
  private readonly subscriber: BusSubscriber
  private readonly listeners = new ListenerSet<BusEvent>('invalidation bus')
  private readonly incoming = new SequenceTracker()
  private readonly outgoing = new OutgoingSequences()
  private readonly queue: PublishQueue
  private readonly peers: LocalPeers | undefined
  /** This tick's key invalidations behind writes, one message per store connection. */
  private readonly followBatches = new FollowBatches((connection, keys) =>
    this.publishOn(connection, { kind: 'key', keys }),
  )
  private readonly stats: BusCounters = {
    sent: 0,
    received: 0,
    dropped: 0,
    rejected: 0,
    gaps: 0,
    reconnects: 0,
  }
  /** With a secret: signs what we send, checks what we receive. */
  private readonly signer: BusSigner | undefined
  private readonly rejections: BusRejections | undefined
  private everConnected = false
  private closed = false
  /** How our own messages begin, on the bus's connection and on a store's (see onMessage). */
  private readonly ownHeads: readonly [string, string]

  constructor(options: RedisBusOptions) {
    const resolved = resolveRedisBusOptions(options, () => randomBytes(8).toString('hex'))
    this.instanceId = resolved.instanceId
    this.prefix = resolved.prefix
    this.channel = `${this.prefix}bus`
    // `1|<id>|` on the bus's connection, `1|<id>~` on any of its store's (see busSender).
    this.ownHeads = [busMessageHead(this.instanceId), `${BUS_PROTOCOL_VERSION}|${this.instanceId}~`]
    if (resolved.secrets !== undefined) {
      this.signer = new BusSigner(resolved.secrets, this.channel)
      this.rejections = new BusRejections(resolved.rejectionReportIntervalMs, (report) =>
        this.reportRejections(report),
      )
    }

    const ioredis = loadIoredis()
    const { Redis } = ioredis
    this.commandTimeoutMs = resolved.commandTimeoutMs
    this.cluster =
      resolved.cluster === undefined
        ? undefined
        : openClusterPublisher(ioredis, resolved.cluster, resolved.redisOptions, resolved.commandTimeoutMs)
    const connect = (extra: RedisOptions): Redis => {
      const merged: RedisOptions = {
        ...resolved.redisOptions,
        lazyConnect: true,
        connectTimeout: 2000,
        // Spaced like RedisStore's reconnects, jitter included: pods that lost Redis together do not return in lockstep.
        retryStrategy: (attempt: number) => reconnectDelay(attempt),
        ...extra,
      }
      return resolved.url === undefined ? new Redis(merged) : new Redis(resolved.url, merged)
    }
    // Publisher: fail fast while down (no offline queue); our own queue retries, latest wins.
    this.client =
      this.cluster ??
      connect({
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: resolved.commandTimeoutMs,
      })
    this.queue = new PublishQueue({
      maxPending: resolved.maxPending,
      send: (invalidation) => this.send(invalidation),
      isReady: () => this.client.status === 'ready',
    })
    this.client.on('error', () => {})
    this.client.on('ready', () => void this.queue.reconnected())
    this.client.connect().catch(() => {})
    // Subscriber: subscribes itself on every `ready`, so we know when delivery resumed.
    // On a cluster every (re)connection goes to the master that owns the channel's slot then.
    const follow =
      this.cluster === undefined
        ? {}
        : { Connector: shardOwnerConnector(ioredis, this.cluster, this.channel, resolved.cluster!.nodes) }
    this.subscriber = new BusSubscriber(
      connect({ autoResubscribe: false, maxRetriesPerRequest: null, ...follow }),
      this.channel,
      resolved.heartbeatMs,
      {
        connected: () => this.onConnected(),
        disconnected: (reason) => this.listeners.emit({ type: 'state', state: 'disconnected', reason }),
        message: (message) => this.onMessage(message),
      },
      this.cluster !== undefined,
    )
    this.peers = resolved.localDelivery
      ? new LocalPeers(resolved.scope, {
          instanceId: this.instanceId,
          receive: (invalidation, from) => {
            this.stats.received++
            this.listeners.emit({ type: 'invalidation', invalidation, from, seq: 0 })
          },
        })
      : undefined
  }

  /** Hands the invalidation to this process's other buses, then PUBLISHes it (or queues it while Redis is down). Never rejects. */
  publish(invalidation: Invalidation): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.peers?.deliver(invalidation)
    return this.queue.publish(invalidation)
  }

  /**
   * For a write whose invalidation rides behind it on the store's own connection (see
   * RedisStore.setFollowedBy): `followUp` PUBLISHes it there behind the write, so Redis runs the two
   * in order in one round trip, and its acknowledgement still means delivered. Key invalidations of
   * one tick on one connection share one message (see FollowBatches). Then `settled(true)` once Redis
   * acknowledged it; `settled(false)` (not sent or failed: Redis is sick) queues it for the bus's
   * retry instead of making the caller wait for another PUBLISH to the same sick server;
   * `settled('deferred')` forgets it (the store publishes it after repairing L2).
   */
  followWrite(invalidation: Invalidation): WriteNotice {
    return {
      followUp: (connection: WriteConnection, writeBytes?: number) =>
        invalidation.kind === 'key'
          ? this.followBatches.follow(connection, invalidation.keys, writeBytes)
          : this.publishOn(connection, invalidation),
      settled: (published) => {
        if (this.closed || published === 'deferred') return Promise.resolve()
        this.peers?.deliver(invalidation)
        if (!published) this.queue.enqueue(invalidation)
        return Promise.resolve()
      },
    }
  }

  /** Adds a listener of invalidations from other pods and of state changes; returns the function that removes it. */
  subscribe(listener: BusListener): () => void {
    return this.listeners.add(listener)
  }

  /** The subscriber connection, which AppChannels shares: it subscribes its channels after each `connected` state event. */
  get subscriberConnection(): Redis {
    return this.subscriber.connection
  }

  /** True while subscribed: invalidations reach this process. */
  isConnected(): boolean {
    return this.subscriber.isConnected()
  }

  /** Resolves true once subscribed, false when `timeoutMs` passes first. (default 5000 ms) */
  ready(timeoutMs = 5000): Promise<boolean> {
    return this.subscriber.ready(timeoutMs)
  }

  /** Messages sent, received, dropped; gaps and reconnects seen; invalidations waiting to be published. */
  counters(): BusCounters & { pending: number } {
    return { ...this.stats, pending: this.queue.size }
  }

  /** Publishes what is still queued (best effort, bounded by the command timeout), then disconnects. */
  async close(): Promise<void> {
    if (this.closed) return
    await this.queue.close()
    this.closed = true
    this.rejections?.close()
    this.peers?.leave()
    this.subscriber.close()
    this.client.disconnect()
  }

  // ---- internals --------------------------------------------------------------------------------

  /** One message on a store connection, the next of that connection's stream; counted once acknowledged. */
  private publishOn({ client, id }: WriteConnection, invalidation: Invalidation): Promise<unknown> {
    const message = encodeBusMessage(this.instanceId, this.outgoing.next(id), invalidation, id)
    return client.publish(this.channel, this.seal(message)).then((n) => {
      this.stats.sent++
      return n
    })
  }

  private send(invalidation: Invalidation): Promise<unknown> {
    const message = encodeBusMessage(this.instanceId, this.outgoing.next(), invalidation)
    // This tick's PUBLISHes (concurrent writes finishing together) leave in one socket write.
    corkUntilNextTick(this.client)
    const sending =
      this.cluster === undefined
        ? this.client.publish(this.channel, this.seal(message))
        : publishSharded(this.cluster, this.channel, this.seal(message), this.commandTimeoutMs)
    return sending.then((n) => {
      this.stats.sent++
      return n
    })
  }

  private onConnected(): void {
    // Sequences restart from whatever we see next: the store purges L1 on this event anyway.
    this.incoming.reset()
    if (this.everConnected) this.stats.reconnects++
    this.everConnected = true
    this.listeners.emit({ type: 'state', state: 'connected' })
  }

  /** What goes on the wire: the message, in its signed envelope when there is a secret. */
  private seal(message: string): string {
    return this.signer === undefined ? message : this.signer.seal(message)
  }

  /** One refused-messages report (at most one per interval, see BusRejections) as a `dropped` state event. */
  private reportRejections(report: RejectionReport): void {
    const window = report.windowMs === 0 ? '' : ` in the last ${report.windowMs} ms`
    this.listeners.emit({
      type: 'state',
      state: 'dropped',
      reason: `rejected ${report.count} message(s) without a valid signature${window} (unsigned ${report.unsigned}, wrong signature ${report.wrongSignature}); none was applied`,
      dropped: this.stats.rejected,
    })
  }

  private onMessage(envelope: string): void {
    // Redis hands every message back to its sender too: skip our own before checking or decoding it.
    const at = this.signer === undefined ? 0 : SIGNED_HEAD_LENGTH
    if (envelope.startsWith(this.ownHeads[0], at) || envelope.startsWith(this.ownHeads[1], at)) return
    let message = envelope
    if (this.signer !== undefined) {
      const opened = this.signer.open(envelope)
      if (!opened.ok) {
        this.stats.rejected++
        this.rejections?.reject(opened.reason)
        return
      }
      message = opened.message
    }
    const decoded = decodeBusMessage(message)
    if (!decoded.ok) {
      this.stats.dropped++
      this.listeners.emit({
        type: 'state',
        state: 'dropped',
        reason: decoded.reason,
        dropped: this.stats.dropped,
      })
      return
    }
    // One a peer in this process already handed us directly.
    if (this.peers?.has(decoded.instanceId)) return
    this.stats.received++
    // Each of a sender's streams (its bus connection, its store's connections) is ordered on its own.
    const sender = busSender(decoded.instanceId, decoded.stream)
    const expected = this.incoming.observe(sender, decoded.seq)
    if (expected !== undefined) {
      this.stats.gaps++
      this.listeners.emit({
        type: 'state',
        state: 'gap',
        reason: `instance ${sender}: expected sequence ${expected}, got ${decoded.seq}`,
      })
    }
    this.listeners.emit({
      type: 'invalidation',
      invalidation: decoded.invalidation,
      from: decoded.instanceId,
      seq: decoded.seq,
    })
  }
}
