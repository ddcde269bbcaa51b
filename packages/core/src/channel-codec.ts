import { validateChannel } from './channels.ts'
import { CacheError, CacheErrorCode, CacheSerializationError } from './errors.ts'
import { jsonSerializer } from './serializer.ts'

/** A message body read back, or why it was refused. */
export type DecodedChannelBody = { ok: true; message: unknown } | { ok: false; reason: string }

/**
 * The JSON body of a message for `channel` (the channel name is checked too), refused with a
 * CacheError before anything is sent: `E_SERIALIZATION` for what JSON cannot carry (a function, a
 * cycle, a BigInt, undefined), `E_VALUE_TOO_LARGE` past `maxBytes` (UTF-8). Dates come back as Dates.
 */
export function encodeChannelBody(channel: string, message: unknown, maxBytes: number): string {
  validateChannel(channel)
  if (message === undefined) {
    throw new CacheSerializationError(`publish("${channel}"): a message cannot be undefined (send null)`)
  }
  let body: string
  try {
    body = jsonSerializer.serialize(message)
  } catch (error) {
    throw new CacheSerializationError(`publish("${channel}"): ${(error as Error).message}`, {
      key: channel,
      cause: error,
    })
  }
  const bytes = body.length > maxBytes / 3 ? Buffer.byteLength(body, 'utf8') : body.length
  if (bytes > maxBytes) {
    throw new CacheError(
      CacheErrorCode.VALUE_TOO_LARGE,
      `publish("${channel}"): the message is ${bytes} bytes of JSON, the limit is ${maxBytes} (maxMessageBytes)`,
      { key: channel },
    )
  }
  return body
}

/** Reads a body sent by encodeChannelBody; anything else (not JSON, past `maxBytes`) is refused with a reason, never thrown. */
export function decodeChannelBody(body: string, maxBytes: number): DecodedChannelBody {
  if (body.length > maxBytes || (body.length > maxBytes / 3 && Buffer.byteLength(body, 'utf8') > maxBytes)) {
    return { ok: false, reason: `message over ${maxBytes} bytes` }
  }
  try {
    return { ok: true, message: jsonSerializer.deserialize(body) }
  } catch {
    return { ok: false, reason: 'message is not valid JSON' }
  }
}
