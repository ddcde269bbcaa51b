import { decodeChannelBody } from '@strata-cache/core/internal'
import { isValidInstanceId } from './bus-message.ts'

/**
 * Wire format of an application message, version 1, on the Redis channel `<prefix>app:<name>`
 * (the invalidation bus's `<prefix>bus` and its format are untouched):
 *
 *   1|<sender>|<json>
 *
 * The sender is the publisher's bus instance id (no `|` in its alphabet); the JSON body is the
 * message as `encodeChannelBody` wrote it, and may hold `|` itself.
 */
export const APP_MESSAGE_VERSION = '1'

/** A message read back, or why it was refused. */
export type DecodedAppMessage = { ok: true; from: string; message: unknown } | { ok: false; reason: string }

/** The wire text of a message `from` an instance, over a body from `encodeChannelBody`. */
export function encodeAppMessage(from: string, body: string): string {
  return `${APP_MESSAGE_VERSION}|${from}|${body}`
}

/** Reads a wire text; anything malformed, of another version or past `maxBytes` is refused with a reason, never thrown. */
export function decodeAppMessage(text: unknown, maxBytes: number): DecodedAppMessage {
  if (typeof text !== 'string') return { ok: false, reason: 'not a string' }
  const first = text.indexOf('|')
  if (text.slice(0, first) !== APP_MESSAGE_VERSION) {
    return {
      ok: false,
      reason: `unknown version "${text.slice(0, Math.min(first === -1 ? 16 : first, 16))}"`,
    }
  }
  const second = text.indexOf('|', first + 1)
  if (second === -1) return { ok: false, reason: 'expected 3 fields' }
  const from = text.slice(first + 1, second)
  if (!isValidInstanceId(from)) return { ok: false, reason: 'invalid sender id' }
  const body = decodeChannelBody(text.slice(second + 1), maxBytes)
  return body.ok ? { ok: true, from, message: body.message } : body
}
