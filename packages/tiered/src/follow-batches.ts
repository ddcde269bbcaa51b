import type { WriteConnection } from '@strata-cache/redis'
import { MAX_KEYS_PER_MESSAGE } from './bus-message.ts'

/**
 * How many bytes of writes one batch's message may follow. Every write of a batch waits for the
 * message behind the last one; Redis reads a client's commands 16 KiB at a time and answers what
 * it read before reading more, so a batch past that makes its first writes wait a read or more
 * for the last (cold getOrSet, 100 callers, ~1 KB values: 16.8k ops/s with 128-key batches, 20.3k
 * with these, a median of 3 interleaved runs).
 */
const MAX_BATCH_BYTES = 8 * 1024

/** Sends one batch: a PUBLISH of these keys, issued now on this connection. */
export type SendKeys = (connection: WriteConnection, keys: readonly string[]) => Promise<unknown>

interface Batch {
  readonly connection: WriteConnection
  readonly keys: Set<string>
  /** Bytes of the writes it follows so far. */
  bytes: number
  /** Settles with the batch's PUBLISH. */
  readonly sent: Promise<unknown>
  settle(sending: Promise<unknown>): void
}

/**
 * The keys written on one store connection in one tick, announced in one message behind the last
 * of those writes instead of one PUBLISH each: fewer commands to send, for Redis to fan out, and for
 * every pod (this one's echo included) to receive. Each write's follow-up settles with that message,
 * which Redis acknowledges only after running the writes ahead of it on the connection, so no pod
 * hears of a write before Redis holds it. The message is issued in a microtask, ahead of the tick's
 * corked socket write (see corkUntilNextTick): a lone write's notice still leaves with the write.
 */
export class FollowBatches {
  /** The batch still open on each connection, by the connection's id. */
  private readonly open = new Map<number, Batch>()

  constructor(private readonly send: SendKeys) {}

  /**
   * Adds `keys`, of a write of `writeBytes`, to this tick's batch on `connection`; settles when the
   * batch was acknowledged (or failed).
   */
  follow(connection: WriteConnection, keys: readonly string[], writeBytes = 0): Promise<unknown> {
    let batch = this.open.get(connection.id)
    // Another client under the same id (a store of another prefix): its batch leaves on its own.
    if (batch !== undefined && batch.connection.client !== connection.client) {
      this.flush(batch)
      batch = undefined
    }
    if (batch === undefined) batch = this.start(connection)
    for (const key of keys) batch.keys.add(key)
    batch.bytes += writeBytes
    const sent = batch.sent
    if (batch.keys.size >= MAX_KEYS_PER_MESSAGE || batch.bytes >= MAX_BATCH_BYTES) this.flush(batch)
    return sent
  }

  private start(connection: WriteConnection): Batch {
    let settle!: (sending: Promise<unknown>) => void
    const sent = new Promise<unknown>((resolve) => {
      settle = resolve
    })
    const batch: Batch = { connection, keys: new Set(), bytes: 0, sent, settle }
    this.open.set(connection.id, batch)
    queueMicrotask(() => this.flush(batch))
    return batch
  }

  /** Sends `batch` unless it already left. */
  private flush(batch: Batch): void {
    if (this.open.get(batch.connection.id) !== batch) return
    this.open.delete(batch.connection.id)
    let sending: Promise<unknown>
    try {
      sending = this.send(batch.connection, [...batch.keys])
    } catch (error) {
      sending = Promise.reject(error)
    }
    batch.settle(sending)
  }
}
