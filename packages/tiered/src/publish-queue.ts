import { MAX_KEYS_PER_MESSAGE } from './bus-message.ts'
import type { Invalidation } from './invalidation.ts'

/** Delay before the queue tries again after a failed send. */
const RETRY_MS = 200

/** What the queue sends with, and how much it keeps. */
export interface PublishQueueOptions {
  /** Invalidations kept for retry; past this the queue collapses to one `clear`. */
  readonly maxPending: number
  /** Sends one invalidation; rejects when it was not acknowledged. */
  send(invalidation: Invalidation): Promise<unknown>
  /** True while the connection can take a send. */
  isReady(): boolean
}

/** Key invalidations of this tick, sent together in a microtask. */
interface TickKeys {
  readonly keys: Set<string>
  /** Settles (never rejects) once they were sent or queued. */
  readonly done: Promise<void>
  settle(sending: Promise<void>): void
}

/**
 * Invalidations waiting to be published, and the policy for sending them: send at once while the
 * connection is healthy and nothing is waiting (so order holds), else queue. The key invalidations
 * of one tick leave as one message (up to MAX_KEYS_PER_MESSAGE keys), sent in a microtask: dropping
 * keys commutes, so gathering them reorders nothing a receiver can tell. Latest wins: a repeated
 * invalidation moves to the end; past `maxPending`, or on a `clear`, one `clear` covers them all.
 * A failed send marks the connection unhealthy and retries every 200 ms until one succeeds.
 */
export class PublishQueue {
  private readonly queue = new Map<string, Invalidation>()
  private healthy = true
  private flushing = false
  private closed = false
  private retryTimer: NodeJS.Timeout | undefined
  private tick: TickKeys | undefined

  constructor(private readonly options: PublishQueueOptions) {}

  /** How many invalidations wait. */
  get size(): number {
    return this.queue.size
  }

  /**
   * Sends now (keys: with this tick's other keys), or queues when the connection is down, unhealthy
   * or others wait. Resolves once sent or queued; never rejects.
   */
  publish(invalidation: Invalidation): Promise<void> {
    if (this.closed) return Promise.resolve()
    if (!this.canSend()) {
      this.enqueue(invalidation)
      return Promise.resolve()
    }
    if (invalidation.kind !== 'key') return this.sendNow(invalidation)
    const tick = this.tick ?? this.startTick()
    for (const key of invalidation.keys) tick.keys.add(key)
    if (tick.keys.size >= MAX_KEYS_PER_MESSAGE) this.sendTick(tick)
    return tick.done
  }

  /** Queues an invalidation for the next flush (latest wins, collapsing past the bound). */
  enqueue(invalidation: Invalidation): void {
    if (this.closed) return
    if (this.queue.has(CLEAR_ID)) return // a queued clear already covers everything
    const id = queueId(invalidation)
    this.queue.delete(id)
    this.queue.set(id, invalidation)
    if (invalidation.kind === 'clear' || this.queue.size > this.options.maxPending) {
      this.queue.clear()
      this.queue.set(CLEAR_ID, { kind: 'clear' })
    }
    this.scheduleRetry()
  }

  /** The connection is (back) up: trust it again and send what waits; resolves when that is done. */
  reconnected(): Promise<void> {
    this.healthy = true
    return this.flush()
  }

  /** Sends what waits, oldest first, until the queue is empty or a send fails. */
  async flush(): Promise<void> {
    if (this.flushing || this.closed) return
    this.flushing = true
    try {
      while (this.queue.size > 0 && this.options.isReady()) {
        const [id, invalidation] = this.queue.entries().next().value as [string, Invalidation]
        try {
          await this.options.send(invalidation)
        } catch {
          this.healthy = false
          break
        }
        // A newer copy may have been queued while this one was in flight: keep that one.
        if (this.queue.get(id) === invalidation) this.queue.delete(id)
        this.healthy = true
      }
    } finally {
      this.flushing = false
    }
    if (this.queue.size > 0) this.scheduleRetry()
  }

  /** Sends what still waits (best effort, when the connection is up), then stops retrying. */
  async close(): Promise<void> {
    if (this.closed) return
    if (this.queue.size > 0 && this.options.isReady()) await this.flush()
    this.closed = true
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
  }

  private canSend(): boolean {
    return this.queue.size === 0 && this.healthy && this.options.isReady()
  }

  /** One send; a failure marks the connection unhealthy and queues the invalidation. */
  private sendNow(invalidation: Invalidation): Promise<void> {
    return this.options.send(invalidation).then(
      () => {},
      () => {
        this.healthy = false
        this.enqueue(invalidation)
      },
    )
  }

  private startTick(): TickKeys {
    let settle!: (sending: Promise<void>) => void
    const done = new Promise<void>((resolve) => {
      settle = resolve
    })
    const tick: TickKeys = { keys: new Set(), done, settle }
    this.tick = tick
    queueMicrotask(() => this.sendTick(tick))
    return tick
  }

  /** Sends the tick's keys unless they already left; queued instead if the connection went bad meanwhile. */
  private sendTick(tick: TickKeys): void {
    if (this.tick !== tick) return
    this.tick = undefined
    const invalidation: Invalidation = { kind: 'key', keys: [...tick.keys] }
    if (this.canSend()) tick.settle(this.sendNow(invalidation))
    else {
      this.enqueue(invalidation)
      tick.settle(Promise.resolve())
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined || this.closed) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.flush()
    }, RETRY_MS)
    this.retryTimer.unref()
  }
}

const CLEAR_ID = 'c|'

/** One id per distinct invalidation: the same one queued twice is kept once. */
function queueId(invalidation: Invalidation): string {
  switch (invalidation.kind) {
    case 'key':
      return `k|${invalidation.keys.join(',')}`
    case 'pattern':
      return `p|${invalidation.pattern}`
    case 'tags':
      return `t|${invalidation.tags.join(',')}`
    case 'clear':
      return CLEAR_ID
  }
}
