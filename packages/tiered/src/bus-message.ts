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

/**
 * Decodes a message; anything malformed or of another version is refused with a reason, never thrown.
 * Scans the fields in place rather than splitting and matching them with regular expressions: it runs
 * for every message every pod receives, on a path that delays dropping L1.
 */
export function decodeBusMessage(message: unknown): DecodedBusMessage {
  if (typeof message !== 'string') return { ok: false, reason: 'not a string' }
  // `1|`: the only version (BUS_PROTOCOL_VERSION).
  if (message.charCodeAt(0) !== 49 || (message.length > 1 && message.charCodeAt(1) !== PIPE)) {
    const first = message.indexOf('|')
    return {
      ok: false,
      reason: `unknown version "${message.slice(0, first === -1 ? 16 : Math.min(first, 16))}"`,
    }
  }
  const senderEnd = message.indexOf('|', 2)
  const seqEnd = senderEnd === -1 ? -1 : message.indexOf('|', senderEnd + 1)
  const kindEnd = seqEnd === -1 ? -1 : message.indexOf('|', seqEnd + 1)
  if (kindEnd === -1 || message.indexOf('|', kindEnd + 1) !== -1) {
    return { ok: false, reason: `expected 5 fields, got ${message.split('|').length}` }
  }
  const tilde = message.indexOf('~', 2)
  const idEnd = tilde === -1 || tilde > senderEnd ? senderEnd : tilde
  if (!isInstanceIdAt(message, 2, idEnd)) return { ok: false, reason: 'invalid instance id' }
  let stream: number | undefined
  if (idEnd !== senderEnd) {
    stream = decimalAt(message, idEnd + 1, senderEnd, 4, true)
    if (stream < 0) return { ok: false, reason: 'invalid stream' }
  }
  const seq = decimalAt(message, senderEnd + 1, seqEnd, 16, false)
  if (seq < 0) return { ok: false, reason: 'invalid sequence number' }
  const instanceId = message.slice(2, idEnd)
  const payload = message.slice(kindEnd + 1)
  let invalidation: Invalidation
  switch (kindEnd === seqEnd + 2 ? message.charCodeAt(seqEnd + 1) : -1) {
    case 107 /* k */:
      {
        const keys = listOfKeys(payload)
        if (keys === undefined) return { ok: false, reason: 'invalid key in payload' }
        invalidation = { kind: 'key', keys }
        break
      }
    case 112 /* p */:
      try {
        validatePattern(payload)
      } catch {
        return { ok: false, reason: 'invalid pattern in payload' }
      }
      invalidation = { kind: 'pattern', pattern: payload }
      break
    case 116 /* t */:
      {
        const tags = listOfKeys(payload)
        if (tags === undefined) return { ok: false, reason: 'invalid tag in payload' }
        invalidation = { kind: 'tags', tags }
        break
      }
    case 99 /* c */:
      if (payload !== '') return { ok: false, reason: 'clear carries no payload' }
      invalidation = { kind: 'clear' }
      break
    default:
      return {
        ok: false,
        reason: `unknown kind "${message.slice(seqEnd + 1, Math.min(kindEnd, seqEnd + 9))}"`,
      }
  }
  return stream === undefined
    ? { ok: true, instanceId, seq, invalidation }
    : { ok: true, instanceId, stream, seq, invalidation }
}

const PIPE = 124

/** `text[start, end)` is an instance id: 1 to 64 of `A-Z a-z 0-9 _ . -` (see isValidInstanceId). */
function isInstanceIdAt(text: string, start: number, end: number): boolean {
  if (end <= start || end - start > 64) return false
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    const ok =
      (c >= 97 && c <= 122) ||
      (c >= 65 && c <= 90) ||
      (c >= 48 && c <= 57) ||
      c === 95 ||
      c === 46 ||
      c === 45
    if (!ok) return false
  }
  return true
}

/**
 * `text[start, end)` as a decimal of 1 to `maxDigits` digits without a leading zero (`0` itself only
 * when `zero`); -1 when it is not one.
 */
function decimalAt(text: string, start: number, end: number, maxDigits: number, zero: boolean): number {
  const length = end - start
  if (length < 1 || length > maxDigits) return -1
  const first = text.charCodeAt(start)
  if (first === 48 /* 0 */) return zero && length === 1 ? 0 : -1
  let value = 0
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c < 48 || c > 57) return -1
    value = value * 10 + (c - 48)
  }
  // Past 2^53 the digits above may round differently than Number() does: parse those the same way.
  return value > Number.MAX_SAFE_INTEGER ? Number(text.slice(start, end)) : value
}

/** Keys (or tags) joined by `,`, each a valid key; undefined when any is not. */
function listOfKeys(payload: string): string[] | undefined {
  const keys = payload.indexOf(',') === -1 ? [payload] : payload.split(',')
  for (const key of keys) if (!isValidKey(key)) return undefined
  return keys
}
