import { CacheErrorCode, CacheKeyError } from './errors.ts'
import { isValidKey, MAX_KEY_LENGTH } from './key-schema.ts'

/** Where a message on an application channel came from. */
export interface ChannelMessageInfo {
  /** The channel's name, as given to `subscribe`. */
  channel: string
  /** The publisher: its bus instance id across pods, `'local'` within one process. */
  from: string
}

/**
 * Receives the messages of one application channel. A handler that throws (or whose promise
 * rejects) is reported as a `CacheListenerWarning`; the other handlers still run.
 */
export type ChannelHandler<T = unknown> = (message: T, info: ChannelMessageInfo) => void | Promise<void>

/**
 * What an application channel reports besides its messages (the Cache's `channel` event):
 * `gap` once subscribed again after the subscription dropped (messages published meanwhile on
 * `channels` may be lost: delivery is at most once); `dropped` for a message refused on receipt
 * (malformed, oversized or unsigned), `dropped` counting them since start.
 */
export type ChannelEvent =
  | { state: 'gap'; channels: readonly string[]; reason: string }
  | { state: 'dropped'; channel?: string; reason: string; dropped: number }

/**
 * Carries application messages (JSON) between the processes that share a store; a store offers it
 * as `CacheStore.channels` (TieredStore over Redis). A Cache whose store has none delivers within
 * its own process.
 */
export interface ChannelTransport {
  /** Sends `message` to every subscriber of `channel`; resolves once the transport accepted it. */
  publish(channel: string, message: unknown): Promise<void>
  /** Adds a handler; resolves, once the subscription is live, the function that removes it. */
  subscribe<T = unknown>(channel: string, handler: ChannelHandler<T>): Promise<() => void>
  /** Adds a listener of gaps and drops; returns the function that removes it. */
  on?(listener: (event: ChannelEvent) => void): () => void
  /** Drops every subscription; the transport's connections belong to its owner. */
  close?(): void | Promise<void>
}

/** Largest message by default: 64 KiB of JSON. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024

/** Throws a CacheKeyError unless `channel` is 1 to 256 of the key alphabet `A-Z a-z 0-9 : _ - .`. */
export function validateChannel(channel: string): void {
  if (isValidKey(channel as unknown)) return
  if (typeof channel !== 'string') {
    throw new CacheKeyError(`invalid channel: expected a string, got ${typeof channel}`)
  }
  if (channel.length === 0 || channel.length > MAX_KEY_LENGTH) {
    throw new CacheKeyError(
      `invalid channel "${channel.slice(0, 40)}": length ${channel.length}, must be 1 to ${MAX_KEY_LENGTH}`,
      { key: channel },
    )
  }
  const at = channel.search(/[^A-Za-z0-9:_.-]/)
  const ch = channel[at]!
  const shown = ch.charCodeAt(0) < 32 ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : ch
  throw new CacheKeyError(
    `invalid channel "${channel}": character "${shown}" at ${at} is not allowed (allowed: A-Z a-z 0-9 : _ - .)`,
    { key: channel, code: CacheErrorCode.INVALID_KEY },
  )
}
