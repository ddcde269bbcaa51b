import { Buffer } from 'node:buffer'
import { createHash } from 'node:crypto'
import { MAX_KEY_LENGTH } from '@strata-cache/core'

/** The namespace segment of keys Keyv wrote without a namespace. */
export const NO_NAMESPACE = '.'

/** Longest namespace kept readable in keys; a longer one is hashed. */
export const MAX_READABLE_NAMESPACE = 64

// Readable segments start with a letter or digit. Hashed ones start with '.', and keys that Keyv
// passed without its namespace prefix (useKeyPrefix: false) with '_': the three forms never meet.
const READABLE_NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/
const READABLE_KEY = /^[A-Za-z0-9][A-Za-z0-9:_.-]*$/

/**
 * `.` and the SHA-256 of the text's UTF-16 code units in base64url (44 characters): no two texts
 * share one in practice (256 bits), lone surrogates included (UTF-8 would fold them into U+FFFD).
 */
export function hashSegment(text: string): string {
  return `.${createHash('sha256').update(Buffer.from(text, 'utf16le')).digest('base64url')}`
}

/** The namespace as a key segment without ':': itself when readable, else its hash; `.` for none. */
export function namespaceSegment(namespace: string | undefined): string {
  if (namespace === undefined || namespace === '') return NO_NAMESPACE
  return namespace.length <= MAX_READABLE_NAMESPACE && READABLE_NAMESPACE.test(namespace)
    ? namespace
    : hashSegment(namespace)
}

/** The key part: itself when it is key characters that fit in `room`, else its hash. */
function keySegment(key: string, room: number): string {
  return key.length <= room && READABLE_KEY.test(key) ? key : hashSegment(key)
}

/**
 * The Strata key of a Keyv key: `{prefix}{namespace segment}:{key segment}`. Keyv hands the store
 * `namespace:key`; the namespace becomes its own segment (so clear() can remove exactly it) and the
 * key keeps its text when Strata's key schema allows it, else becomes a hash. One-to-one for a given
 * prefix: readable, hashed and unprefixed segments start with different characters.
 */
export function toCacheKey(prefix: string, namespace: string | undefined, key: string): string {
  const head = `${prefix}${namespaceSegment(namespace)}:`
  const room = MAX_KEY_LENGTH - head.length
  if (namespace === undefined || namespace === '') return head + keySegment(key, room)
  if (key.startsWith(`${namespace}:`)) return head + keySegment(key.slice(namespace.length + 1), room)
  return `${head}_${keySegment(key, room - 1)}`
}

/** The glob that matches every key of one namespace under `prefix`, for clear(). */
export function namespacePattern(prefix: string, namespace: string | undefined): string {
  return `${prefix}${namespaceSegment(namespace)}:*`
}
