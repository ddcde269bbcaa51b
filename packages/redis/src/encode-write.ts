import {
  type AnySerializer,
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  validateTags,
} from '@strata-cache/core'
import {
  decodeHeader,
  decodeStored,
  type EntryCompression,
  encodeEntry,
  OTHER_FORMAT,
} from './entry-codec.ts'
import type { EncodedWrite } from './tag-index.ts'

/** What encoding an entry needs of the store. */
export interface EntryEncoding {
  name: string
  serializer: AnySerializer
  compression: EntryCompression | undefined
  maxValueBytes: number
  now: () => number
}

/** An entry checked and encoded for {@link RedisStore.write}: nothing about it can fail any more but Redis. */
export type PreparedWrite = Readonly<EncodedWrite>

/** The entry as text or bytes, checked (finite timing, valid tags, serializable, within maxValueBytes) before any I/O. */
export function encodeWrite(encoding: EntryEncoding, key: string, entry: CacheEntry): EncodedWrite {
  const { name, maxValueBytes } = encoding
  if (
    entry === null ||
    typeof entry !== 'object' ||
    !Number.isFinite(entry.staleUntil) ||
    !Number.isFinite(entry.expiresAt)
  ) {
    throw new CacheError(
      CacheErrorCode.INVALID_OPTION,
      `${name}: entry for "${key}" needs finite expiresAt and staleUntil`,
      {
        key,
      },
    )
  }
  // Tags go into the header comma-separated and name Redis sets: hold them to the key schema.
  if (entry.tags !== undefined) validateTags(entry.tags)
  const text = encodeEntry(entry, encoding.serializer, encoding.compression)
  // Bytes >= chars, and a UTF-16 char is at most 3 UTF-8 bytes: count exactly only when it matters.
  if (typeof text !== 'string' || text.length * 3 > maxValueBytes) {
    const bytes = typeof text === 'string' ? Buffer.byteLength(text) : text.length
    if (bytes > maxValueBytes) {
      throw new CacheError(
        CacheErrorCode.VALUE_TOO_LARGE,
        `value for cache key "${key}" is ${bytes} bytes encoded, over maxValueBytes ${maxValueBytes} of the ${name} store: cache something smaller or raise maxValueBytes`,
        { key, option: 'maxValueBytes' },
      )
    }
  }
  return { key, text, ttlMs: Math.ceil(entry.staleUntil - encoding.now()), entry }
}

/**
 * A fresh copy of a prepared entry, decoded from the text it will be stored as: its value built for
 * this call alone, marked like a read's (see DecodedEntry), so a memory tier takes it over instead of
 * serializing the value once more. Undefined for compressed or binary entries (inflating costs more
 * than the copy it saves) and for a serializer that cannot read back what it wrote.
 */
export function decodePrepared<T>(
  prepared: PreparedWrite,
  serializer: AnySerializer,
  tier: string,
): CacheEntry<T> | undefined {
  if (typeof prepared.text !== 'string' || serializer.binary === true) return undefined
  try {
    const entry = decodeStored<T>(prepared.text, serializer, prepared.key, tier)
    return entry === OTHER_FORMAT ? undefined : entry
  } catch {
    return undefined
  }
}

/**
 * The value's serialized text inside a prepared entry, when the entry holds it as text as is (not
 * compressed, not binary) in `format`: what an L1 of that format may keep, to parse on its first
 * read. A substring of the encoded entry, so nothing is copied.
 */
export function preparedValueText(prepared: PreparedWrite, format: string): string | undefined {
  const { text } = prepared
  if (typeof text !== 'string') return undefined
  if (format === 'json' && text.startsWith('S1\t')) return text.slice(text.indexOf('\n') + 1)
  const header = decodeHeader(text)
  if (header === undefined || header.codec !== '' || header.format !== format) return undefined
  return text.slice(header.bodyStart)
}
