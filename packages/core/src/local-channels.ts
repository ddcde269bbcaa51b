import { decodeChannelBody, encodeChannelBody } from './channel-codec.ts'
import { ChannelHandlers } from './channel-handlers.ts'
import {
  type ChannelHandler,
  type ChannelTransport,
  DEFAULT_MAX_MESSAGE_BYTES,
  validateChannel,
} from './channels.ts'
import { CacheError, CacheErrorCode, CacheOptionError } from './errors.ts'

/** Options of {@link LocalChannels}. */
export interface LocalChannelsOptions {
  /** Largest message, in bytes of JSON; a larger one is refused by `publish` with `E_VALUE_TOO_LARGE`. @default 65536 */
  maxMessageBytes?: number
}

/**
 * Application channels within one process: what a Cache uses when its store carries none (a
 * memory-only cache). Messages go through JSON like across pods, so a handler gets its own copy
 * (Dates stay Dates) and what cannot travel between pods is refused here too.
 */
export class LocalChannels implements ChannelTransport {
  private readonly handlers = new ChannelHandlers()
  private readonly maxBytes: number
  private closed = false

  constructor(options: LocalChannelsOptions = {}) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES
    if (!Number.isInteger(max) || max < 1) {
      throw new CacheOptionError(
        `LocalChannels: option "maxMessageBytes" must be an integer >= 1 (got ${String(max)})`,
        { option: 'maxMessageBytes' },
      )
    }
    this.maxBytes = max
  }

  /** Hands a copy of `message` to every handler of `channel` in this process, before it resolves. */
  async publish(channel: string, message: unknown): Promise<void> {
    this.assertOpen()
    const body = encodeChannelBody(channel, message, this.maxBytes)
    if (!this.handlers.has(channel)) return
    const decoded = decodeChannelBody(body, this.maxBytes)
    if (decoded.ok) this.handlers.deliver(channel, decoded.message, 'local')
  }

  /** Adds a handler of `channel`; resolves the function that removes it. */
  async subscribe<T = unknown>(channel: string, handler: ChannelHandler<T>): Promise<() => void> {
    this.assertOpen()
    validateChannel(channel)
    if (typeof handler !== 'function') {
      throw new CacheOptionError(`subscribe("${channel}"): the handler must be a function`)
    }
    const { remove } = this.handlers.add(channel, handler as ChannelHandler)
    return () => void remove()
  }

  /** Drops every handler; later calls reject with `E_CLOSED`. */
  close(): void {
    this.closed = true
    this.handlers.clear()
  }

  private assertOpen(): void {
    if (this.closed) throw new CacheError(CacheErrorCode.CLOSED, 'the channels are closed')
  }
}
