import {
  CacheError,
  CacheErrorCode,
  CacheOptionError,
  type ChannelEvent,
  type ChannelHandler,
  type ChannelTransport,
  type Duration,
  parseDuration,
  validateChannel,
} from '@strata-cache/core'
import {
  assertKnownOptions,
  ChannelHandlers,
  DEFAULT_MAX_MESSAGE_BYTES,
  encodeChannelBody,
  ListenerSet,
} from '@strata-cache/core/internal'
import type { Cluster, Redis } from 'ioredis'
import { decodeAppMessage, encodeAppMessage } from './app-message.ts'
import { BusSigner, MIN_SECRET_LENGTH } from './bus-signature.ts'
import type { BusListener } from './invalidation.ts'

/** What AppChannels needs of a bus: a RedisBus. */
export interface AppChannelsBus {
  readonly instanceId: string
  readonly prefix: string
  /** Publishes the messages (a Cluster client on a cluster: PUBLISH reaches every node). */
  readonly client: Redis | Cluster
  /** Receives them: the bus's own subscriber connection. */
  readonly subscriberConnection: Redis
  isConnected(): boolean
  /** Resolves true once subscribed, false after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<boolean>
  subscribe(listener: BusListener): () => void
}

/** Options of {@link AppChannels}. */
export interface AppChannelsOptions {
  /** The RedisBus whose two connections carry the messages; AppChannels never closes it. */
  bus: AppChannelsBus
  /** Largest message, in bytes of JSON: a larger one is refused by `publish` (`E_VALUE_TOO_LARGE`) and dropped on receipt. @default 65536 */
  maxMessageBytes?: number
  /** How long `subscribe` waits for a bus that is not connected (yet) before it resolves anyway (the channel is subscribed once the bus is, after a `gap`). @default '1s' */
  subscribeWait?: Duration
  /**
   * Shared secret (at least 16 characters), or a list that rotates (the first signs, any verifies):
   * every message is signed (HMAC-SHA256, bound to its channel) and one without a valid signature is
   * dropped and counted. createCache passes the bus's `secret`. @default none: neither signed nor checked
   */
  secret?: string | readonly string[]
}

/** What AppChannels counted since it started. */
export interface AppChannelCounters {
  /** Messages Redis accepted from this process. */
  published: number
  /** Valid messages received (each counted once, however many handlers). */
  received: number
  /** Messages refused on receipt: malformed, of another version, too large. */
  dropped: number
  /** Times the subscriptions came back after a drop (each a `gap` event). */
  gaps: number
  /** Channels this process is subscribed to. */
  channels: number
}

const OPTIONS = ['bus', 'maxMessageBytes', 'subscribeWait', 'secret'] as const
/** Refused messages reported as `dropped` events per second, at most; past it they are only counted. */
const DROP_REPORTS_PER_SECOND = 10

/**
 * Application channels over a RedisBus's connections: `publish` on its publisher, SUBSCRIBE on its
 * subscriber (Redis channel `<prefix>app:<name>`), so no connection is added. At most once, like
 * Redis pub/sub: when the bus reports its subscriber connection dropped (closed, or a heartbeat
 * unanswered), the channels are subscribed again once it is back and a `gap` event says that
 * messages published meanwhile may be lost.
 */
export class AppChannels implements ChannelTransport {
  /** Redis channel names begin with this: `<bus prefix>app:`. */
  readonly prefix: string
  private readonly bus: AppChannelsBus
  private readonly connection: Redis
  private readonly maxBytes: number
  private readonly subscribeWaitMs: number
  /** With a secret: one signer per channel, each bound to its Redis channel name. */
  private readonly secrets: readonly string[] | undefined
  private readonly signers = new Map<string, BusSigner>()
  private dropReports = { second: 0, count: 0 }
  private readonly handlers = new ChannelHandlers()
  private readonly listeners = new ListenerSet<ChannelEvent>('application channels')
  private readonly stats = { published: 0, received: 0, dropped: 0, gaps: 0 }
  /** SUBSCRIBEs in flight, by channel: a second subscriber waits for the same one. */
  private readonly subscribing = new Map<string, Promise<void>>()
  /** Why messages may have been missed since the channels were last subscribed; reported once they are again. */
  private lost: string | undefined
  /** Moves on every bus state change: a late SUBSCRIBE reply of an older connection is ignored. */
  private generation = 0
  private closed = false
  private readonly offBus: () => void
  private readonly onRedisMessage = (redisChannel: string, text: string) => this.onMessage(redisChannel, text)

  constructor(options: AppChannelsOptions) {
    assertKnownOptions('AppChannels', options, OPTIONS)
    const bus = options?.bus
    if (bus === undefined || typeof bus.subscriberConnection?.subscribe !== 'function') {
      throw new CacheOptionError('AppChannels: option "bus" is required and must be a RedisBus', {
        option: 'bus',
      })
    }
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    if (!Number.isInteger(max) || max < 1) {
      throw new CacheOptionError(
        `AppChannels: option "maxMessageBytes" must be an integer >= 1 (got ${String(max)})`,
        { option: 'maxMessageBytes' },
      )
    }
    this.bus = bus
    this.maxBytes = max
    this.subscribeWaitMs = parseDuration(options.subscribeWait ?? '1s', 'subscribeWait')
    this.secrets = resolveSecrets(options.secret)
    this.prefix = `${bus.prefix}app:`
    this.connection = bus.subscriberConnection
    this.connection.on('message', this.onRedisMessage)
    this.offBus = bus.subscribe((event) => {
      if (event.type !== 'state' || this.closed) return
      if (event.state === 'connected') this.onConnected()
      else if (event.state === 'disconnected') this.onDisconnected(event.reason ?? 'connection lost')
    })
  }

  /**
   * PUBLISHes `message` (JSON) on the channel; resolves once Redis accepted it, having written it to
   * every subscribed connection, this process's included. Rejects with `E_STORE_UNAVAILABLE` when
   * Redis did not take it (nothing is queued: a caller decides whether to try again).
   */
  async publish(channel: string, message: unknown): Promise<void> {
    this.assertOpen()
    const body = encodeChannelBody(channel, message, this.maxBytes)
    try {
      const wire = encodeAppMessage(this.bus.instanceId, body)
      await this.bus.client.publish(this.prefix + channel, this.signer(channel)?.seal(wire) ?? wire)
    } catch (error) {
      throw new CacheError(
        CacheErrorCode.STORE_UNAVAILABLE,
        `publish("${channel}"): Redis did not take the message (${(error as Error).message}); it was not sent`,
        { key: channel, cause: error },
      )
    }
    this.stats.published++
  }

  /**
   * Adds a handler; resolves the function that removes it once Redis confirmed the subscription.
   * A bus not connected yet is waited for up to `subscribeWait` (a process starting up); past that
   * it resolves anyway: the channel is subscribed when the bus is back, and a `gap` event then says
   * that messages may have been missed.
   */
  async subscribe<T = unknown>(channel: string, handler: ChannelHandler<T>): Promise<() => void> {
    this.assertOpen()
    validateChannel(channel)
    if (typeof handler !== 'function') {
      throw new CacheOptionError(`subscribe("${channel}"): the handler must be a function`)
    }
    const { first, remove } = this.handlers.add(channel, handler as ChannelHandler)
    const unsubscribe = () => {
      if (!remove() || this.closed || !this.bus.isConnected()) return
      this.connection.unsubscribe(this.prefix + channel).catch(() => {})
    }
    if (!this.bus.isConnected() && !(await this.bus.ready(this.subscribeWaitMs))) {
      this.lost ??= 'subscribed while the bus was disconnected'
      return unsubscribe
    }
    // Subscribed by the `connected` handler meanwhile (it subscribes every channel with a handler).
    if (this.closed) return unsubscribe
    let subscribing = this.subscribing.get(channel)
    if (first || subscribing === undefined) {
      subscribing = this.redisSubscribe([channel])
      this.subscribing.set(channel, subscribing)
      void subscribing.finally(() => {
        if (this.subscribing.get(channel) === subscribing) this.subscribing.delete(channel)
      })
    }
    await subscribing
    return unsubscribe
  }

  /** Adds a listener of `gap` and `dropped` events; returns the function that removes it. */
  on(listener: (event: ChannelEvent) => void): () => void {
    return this.listeners.add(listener)
  }

  /** Messages published, received and dropped, gaps, and how many channels are subscribed. */
  counters(): AppChannelCounters {
    return { ...this.stats, channels: this.handlers.channels().length }
  }

  /** Unsubscribes every channel (best effort) and drops every handler; the bus stays open. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.offBus()
    this.connection.off('message', this.onRedisMessage)
    const channels = this.handlers.channels()
    if (channels.length > 0 && this.bus.isConnected()) {
      this.connection.unsubscribe(...channels.map((c) => this.prefix + c)).catch(() => {})
    }
    this.handlers.clear()
    this.listeners.clear()
  }

  // ---- internals --------------------------------------------------------------------------------

  /** SUBSCRIBE; a failure (the connection dropped) is remembered as a possible loss, reported once subscribed again. */
  private async redisSubscribe(channels: readonly string[]): Promise<void> {
    try {
      await this.connection.subscribe(...channels.map((c) => this.prefix + c))
    } catch (error) {
      this.lost ??= `SUBSCRIBE failed: ${(error as Error).message}`
    }
  }

  private onDisconnected(reason: string): void {
    this.generation++
    if (this.handlers.channels().length > 0) this.lost ??= reason
  }

  /** The bus subscribed again (its own channel first): subscribe ours, then report what may be lost. */
  private onConnected(): void {
    const generation = ++this.generation
    const channels = this.handlers.channels()
    if (channels.length === 0) {
      this.lost = undefined
      return
    }
    void this.connection.subscribe(...channels.map((c) => this.prefix + c)).then(
      () => {
        if (generation !== this.generation || this.closed || this.lost === undefined) return
        const reason = this.lost
        this.lost = undefined
        this.stats.gaps++
        this.listeners.emit({ state: 'gap', channels, reason })
      },
      () => {}, // dropped again: the next `connected` retries
    )
  }

  private onMessage(redisChannel: string, text: string): void {
    if (!redisChannel.startsWith(this.prefix)) return
    const channel = redisChannel.slice(this.prefix.length)
    // A message already in flight when the last handler left.
    if (!this.handlers.has(channel)) return
    const signer = this.signer(channel)
    let wire: unknown = text
    if (signer !== undefined) {
      const opened =
        typeof text === 'string' ? signer.open(text) : ({ ok: false, reason: 'unsigned' } as const)
      if (!opened.ok) {
        this.drop(channel, `${opened.reason} message`)
        return
      }
      wire = opened.message
    }
    const decoded = decodeAppMessage(wire, this.maxBytes)
    if (!decoded.ok) {
      this.drop(channel, decoded.reason)
      return
    }
    this.stats.received++
    this.handlers.deliver(channel, decoded.message, decoded.from)
  }

  /** Counts a refused message; reports it, at most DROP_REPORTS_PER_SECOND a second (a flood is only counted). */
  private drop(channel: string, reason: string): void {
    this.stats.dropped++
    const second = Math.floor(Date.now() / 1000)
    if (this.dropReports.second !== second) this.dropReports = { second, count: 0 }
    if (++this.dropReports.count > DROP_REPORTS_PER_SECOND) return
    this.listeners.emit({ state: 'dropped', channel, reason, dropped: this.stats.dropped })
  }

  /** The signer of `channel`'s messages; undefined without a secret. */
  private signer(channel: string): BusSigner | undefined {
    if (this.secrets === undefined) return undefined
    let signer = this.signers.get(channel)
    if (signer === undefined) {
      // Bounded: a process publishing on ever new channel names does not grow this without end.
      if (this.signers.size >= 1000) this.signers.clear()
      signer = new BusSigner(this.secrets, this.prefix + channel)
      this.signers.set(channel, signer)
    }
    return signer
  }

  private assertOpen(): void {
    if (this.closed) throw new CacheError(CacheErrorCode.CLOSED, 'the application channels are closed')
  }
}

/** The secrets of option `secret`, the signing one first; undefined without one. Throws a CacheOptionError. */
function resolveSecrets(secret: AppChannelsOptions['secret']): readonly string[] | undefined {
  if (secret === undefined) return undefined
  const secrets = typeof secret === 'string' ? [secret] : secret
  if (
    !Array.isArray(secrets) ||
    secrets.length === 0 ||
    secrets.some((s) => typeof s !== 'string' || s.length < MIN_SECRET_LENGTH)
  ) {
    throw new CacheOptionError(
      `AppChannels: option "secret" must be a string of at least ${MIN_SECRET_LENGTH} characters, or a non-empty list of them (the first signs)`,
      { option: 'secret' },
    )
  }
  return [...secrets]
}
