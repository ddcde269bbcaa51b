import type { Redis } from 'ioredis'

/** What the subscriber reports to its bus. */
export interface BusSubscriberHandlers {
  /** Subscribed (first time or again): delivery resumed, and what was published meanwhile is unknown. */
  connected(): void
  /** The connection closed, or a heartbeat went unanswered: messages may be lost from now on. */
  disconnected(reason: string): void
  /** A message on the channel. */
  message(message: string): void
}

/**
 * The bus's subscriber connection: subscribes on every `ready` (so it knows when delivery resumed,
 * rather than relying on ioredis's auto-resubscribe), and pings on a heartbeat, because a hung server
 * (SIGSTOP, a partition without a reset) keeps the socket open: a missed PING is the only sign, so
 * it counts as a drop. Sharded (a Cluster's bus): SSUBSCRIBE instead, and the heartbeat SSUBSCRIBEs
 * again instead of PING, because a node that stops owning the channel's slot (a failover, a slot
 * moving) unsubscribes us with a push ioredis does not report: the heartbeat's reply then says so
 * (no subscription, or MOVED), which counts as a drop, and the connection is made again — to the new
 * owner, through its Connector (see cluster-bus.ts).
 */
export class BusSubscriber {
  private connected = false
  private closed = false
  /** Moves on every drop: a late SUBSCRIBE reply or PING of an older connection is ignored. */
  private generation = 0
  private heartbeatTimer: NodeJS.Timeout | undefined
  private readyWaiters: (() => void)[] = []
  /** performance.now() of the last message this connection delivered (any channel): proof it is alive. */
  private lastHeard = 0

  constructor(
    /** The subscriber connection (RedisBus lends it to AppChannels). */
    readonly connection: Redis,
    private readonly channel: string,
    private readonly heartbeatMs: number,
    private readonly handlers: BusSubscriberHandlers,
    /** Sharded pub/sub (SSUBSCRIBE, `smessage`): the bus of a Cluster. @default false */
    private readonly sharded = false,
  ) {
    connection.on('ready', () => void this.onReady())
    connection.on('close', () => this.onDown('connection closed'))
    connection.on(sharded ? 'smessage' : 'message', (from: string, message: string) => {
      this.lastHeard = performance.now()
      if (from === this.channel) handlers.message(message)
    })
    // ioredis answers MOVED to an SSUBSCRIBE with this event and leaves the command pending: this
    // node does not own the channel's slot (any more). Connect again: the Connector finds the owner.
    if (sharded) connection.on('moved', () => this.movedAway())
    // Connection errors surface as state changes ('disconnected'); without a listener ioredis logs them.
    connection.on('error', () => {})
    connection.connect().catch(() => {})
  }

  /** True while subscribed: messages reach this process. */
  isConnected(): boolean {
    return this.connected
  }

  /** Resolves true once subscribed, false when `timeoutMs` passes first. */
  ready(timeoutMs: number): Promise<boolean> {
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
      // A wait for the bus must not keep the process alive by itself.
      timer.unref()
      this.readyWaiters.push(waiter)
    })
  }

  /** Stops the heartbeat and disconnects; reports nothing more. */
  close(): void {
    this.closed = true
    this.connected = false
    clearInterval(this.heartbeatTimer)
    this.connection.disconnect()
  }

  private async onReady(): Promise<void> {
    const generation = ++this.generation
    try {
      if (this.sharded) await this.connection.ssubscribe(this.channel)
      else await this.connection.subscribe(this.channel)
    } catch {
      // Sharded: MOVED (our slot map was old) or LOADING: connect again, to the owner as it is now.
      if (this.sharded && generation === this.generation && !this.closed) this.connection.disconnect(true)
      return // the connection dropped again; the next `ready` retries
    }
    if (generation !== this.generation || this.closed) return
    this.connected = true
    this.handlers.connected()
    for (const waiter of this.readyWaiters.splice(0)) waiter()
    this.startHeartbeat()
  }

  /** Sharded: the channel's slot is served elsewhere while our connection stays up: a drop; connect again. */
  private movedAway(): void {
    if (this.closed) return
    this.onDown('the bus channel is served by another shard now')
    this.connection.disconnect(true)
  }

  private onDown(reason: string): void {
    this.generation++
    clearInterval(this.heartbeatTimer)
    this.heartbeatTimer = undefined
    if (!this.connected || this.closed) return
    this.connected = false
    this.handlers.disconnected(reason)
  }

  private startHeartbeat(): void {
    clearInterval(this.heartbeatTimer)
    if (this.heartbeatMs === 0) return
    this.heartbeatTimer = setInterval(() => {
      if (!this.connected) return
      const generation = this.generation
      let answered = false
      const lost = (reason: string) => {
        if (generation !== this.generation) return
        this.onDown(reason)
        this.connection.disconnect(true)
      }
      // The reply waits behind every message queued before it: while messages keep arriving the
      // server is alive (a flood on the channel must not read as a drop), so the deadline moves on.
      let since = performance.now()
      const check = () => {
        if (answered) return
        if (this.lastHeard <= since) return lost(`no answer to PING within ${this.heartbeatMs} ms`)
        since = performance.now()
        timer = setTimeout(check, this.heartbeatMs)
        timer.unref()
      }
      let timer = setTimeout(check, this.heartbeatMs)
      timer.unref()
      const probe = this.sharded ? this.connection.ssubscribe(this.channel) : this.connection.ping()
      probe.then(
        (reply) => {
          answered = true
          clearTimeout(timer)
          if (this.sharded && !(Number(reply) >= 1)) lost('the shard unsubscribed the bus channel')
        },
        (error: unknown) => {
          if (!this.sharded) return
          answered = true
          clearTimeout(timer)
          lost(`the bus channel's shard refused SSUBSCRIBE: ${String(error)}`)
        },
      )
    }, this.heartbeatMs)
    this.heartbeatTimer.unref()
  }
}
