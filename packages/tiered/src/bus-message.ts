import { isValidKey, validatePattern } from '@strata-cache/core'
import type { Invalidation } from './invalidation.ts'

/**
 * Wire format of a bus message, version 1: five fields separated by `|`.
 *
 *   1|<sender>|<seq>|<kind>|<payload>
 *
 * The sender is the instance id, or `<instanceId>~<stream>` for a message sent on one of the
 * store's own Redis connections right behind a write (see RedisBus.followWrite): every connection is an
 * ordered stream with its own sequence numbers, so order and gaps are judged per stream. `~` is not
 * in the instance-id alphabet, so no id can pass for another's stream.
 *
 * kind `k`: payload is keys joined by `,`; `p`: one glob pattern; `t`: tags joined by `,`;
 * `c`: clear, empty payload. Keys, patterns and tags use the key alphabet, which has neither
 * `|` nor `,`, so no escaping is needed. Values are never sent.
 */
export const BUS_PROTOCOL_VERSION = '1'

/**
 * Most keys one message carries when a sender gathers a tick's key invalidations into one (see
 * FollowBatches and PublishQueue): at 256 characters a key, a message stays under 33 KB.
 */
export const MAX_KEYS_PER_MESSAGE = 128

const INSTANCE_ID = /^[A-Za-z0-9_.-]{1,64}$/

/** A decoded message, or why it was refused. */
export type DecodedBusMessage =
  | { ok: true; instanceId: string; stream?: number; seq: number; invalidation: Invalidation }
  | { ok: false; reason: string }

/** True for an id usable on the bus: 1 to 64 of `A-Z a-z 0-9 _ . -`. */
export function isValidInstanceId(id: unknown): id is string {
  return typeof id === 'string' && INSTANCE_ID.test(id)
}

/** The sender field: the instance id, or `<instanceId>~<stream>` on one of its store's connections. */
export function busSender(instanceId: string, stream?: number): string {
  return stream === undefined ? instanceId : `${instanceId}~${stream}`
}

/** How every message from this sender (and stream) begins: `1|<sender>|`. */
export function busMessageHead(instanceId: string, stream?: number): string {
  return `${BUS_PROTOCOL_VERSION}|${busSender(instanceId, stream)}|`
}

/** Encodes one invalidation from `instanceId` (on `stream`, when given) with sequence number `seq`. */
export function encodeBusMessage(
  instanceId: string,
  seq: number,
  invalidation: Invalidation,
  stream?: number,
): string {
  const head = `${busMessageHead(instanceId, stream)}${seq}|`
  switch (invalidation.kind) {
    case 'key':
      return `${head}k|${invalidation.keys.join(',')}`
    case 'pattern':
      return `${head}p|${invalidation.pattern}`
    case 'tags':
      return `${head}t|${invalidation.tags.join(',')}`
    case 'clear':
      return `${head}c|`
  }
}

/** Decodes a message; anything malformed or of another version is refused with a reason, never thrown. */
export function decodeBusMessage(message: unknown): DecodedBusMessage {
  if (typeof message !== 'string') return { ok: false, reason: 'not a string' }
  const parts = message.split('|')
  if (parts[0] !== BUS_PROTOCOL_VERSION) {
    return { ok: false, reason: `unknown version "${String(parts[0]).slice(0, 16)}"` }
  }
  if (parts.length !== 5) return { ok: false, reason: `expected 5 fields, got ${parts.length}` }
  const [, sender, seqText, kind, payload] = parts as [string, string, string, string, string]
  const tilde = sender.indexOf('~')
  const instanceId = tilde === -1 ? sender : sender.slice(0, tilde)
  if (!isValidInstanceId(instanceId)) return { ok: false, reason: 'invalid instance id' }
  let stream: number | undefined
  if (tilde !== -1) {
    const streamText = sender.slice(tilde + 1)
    if (!/^(0|[1-9][0-9]{0,3})$/.test(streamText)) return { ok: false, reason: 'invalid stream' }
    stream = Number(streamText)
  }
  if (!/^[1-9][0-9]{0,15}$/.test(seqText)) return { ok: false, reason: 'invalid sequence number' }
  const seq = Number(seqText)
  let invalidation: Invalidation
  switch (kind) {
    case 'k': {
      const keys = payload.split(',')
      if (!keys.every(isValidKey)) return { ok: false, reason: 'invalid key in payload' }
      invalidation = { kind: 'key', keys }
      break
    }
    case 'p':
      try {
        validatePattern(payload)
      } catch {
        return { ok: false, reason: 'invalid pattern in payload' }
      }
      invalidation = { kind: 'pattern', pattern: payload }
      break
    case 't': {
      const tags = payload.split(',')
      if (!tags.every(isValidKey)) return { ok: false, reason: 'invalid tag in payload' }
      invalidation = { kind: 'tags', tags }
      break
    }
    case 'c':
      if (payload !== '') return { ok: false, reason: 'clear carries no payload' }
      invalidation = { kind: 'clear' }
      break
    default:
      return { ok: false, reason: `unknown kind "${kind.slice(0, 8)}"` }
  }
  return stream === undefined
    ? { ok: true, instanceId, seq, invalidation }
    : { ok: true, instanceId, stream, seq, invalidation }
}
