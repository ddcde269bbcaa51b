import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { type AnySerializer, type CacheEntry, CacheError, CacheErrorCode } from '@strata-cache/core'
import { DecodedEntry } from './decoded-entry.ts'

// A text header, then the value's bytes as the serializer wrote them (no JSON-in-JSON escaping): a
// reader checks timing and tags without touching the value.
//   S1 \t createdAt \t expiresAt \t staleUntil \t tag,tag \n <JSON text>
//   S2 \t createdAt \t expiresAt \t staleUntil \t tag,tag \t format \t codec \n <bytes>
// S1 is what every Strata version writes and reads: its value is JSON. S2 names the value's format
// (the serializer's name) and how the bytes are packed (`''` as is, `deflate` zlib raw deflate). A
// JSON value stored uncompressed is still written as S1, so older pods read it during a deploy.
const MAGIC_1 = 'S1\t'
const MAGIC_2 = 'S2\t'
const NEWLINE = 10
/** The format of an S1 entry. */
const JSON_FORMAT = 'json'
const FORMAT_NAME = /^[A-Za-z0-9._-]{1,32}$/

/** Compression of values on their way to Redis: above `thresholdBytes`, zlib at `level`. */
export interface EntryCompression {
  readonly thresholdBytes: number
  readonly level: number
}

/**
 * Largest value a compressed entry may inflate to. A value larger than this is stored uncompressed
 * (maxValueBytes still bounds it), so no honest entry inflates past it, and an entry planted in
 * Redis as a "zip bomb" (a few kB that inflate to gigabytes) is refused as corrupt at this size.
 */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024

/** What a read found when the entry is in another format than the reader's serializer: a miss, not an error. */
export const OTHER_FORMAT: unique symbol = Symbol('strata.otherFormat')

/** Throws a CacheError unless the serializer's name can tag entries (1 to 32 of `A-Z a-z 0-9 . _ -`). */
export function assertFormatName(serializer: AnySerializer, owner: string): void {
  if (typeof serializer?.name !== 'string' || !FORMAT_NAME.test(serializer.name)) {
    throw new CacheError(
      CacheErrorCode.INVALID_OPTION,
      `${owner}: the serializer's name ${JSON.stringify(serializer?.name)} must be 1 to 32 of A-Z a-z 0-9 . _ - (it tags every entry)`,
      { option: 'serializer' },
    )
  }
}

/**
 * Encodes an entry as one Redis value: a string (S1, or S2 text as is), or bytes (binary or
 * compressed values). Throws what the serializer throws (CacheSerializationError).
 */
export function encodeEntry(
  entry: CacheEntry,
  serializer: AnySerializer,
  compression?: EntryCompression,
): string | Buffer {
  const payload = serializer.serialize(entry.value)
  const tags = entry.tags === undefined ? '' : entry.tags.join(',')
  const timing = `${entry.createdAt}\t${entry.expiresAt}\t${entry.staleUntil}\t${tags}`
  if (typeof payload === 'string') {
    const compress = compression !== undefined && payload.length >= compression.thresholdBytes / 3
    if (!compress || Buffer.byteLength(payload) < compression.thresholdBytes) {
      if (serializer.name === JSON_FORMAT) return `${MAGIC_1}${timing}\n${payload}`
      return `${MAGIC_2}${timing}\t${serializer.name}\t\n${payload}`
    }
  }
  let bytes: Uint8Array = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload
  let codec = ''
  if (
    compression !== undefined &&
    bytes.byteLength >= compression.thresholdBytes &&
    bytes.byteLength <= MAX_INFLATED_BYTES
  ) {
    bytes = deflateRawSync(bytes, { level: compression.level })
    codec = 'deflate'
  }
  const header = Buffer.from(`${MAGIC_2}${timing}\t${serializer.name}\t${codec}\n`, 'latin1')
  return Buffer.concat([header, bytes])
}

/** An entry's header: timing, tags, format and codec, and where its value starts. */
export interface EntryHeader {
  createdAt: number
  expiresAt: number
  staleUntil: number
  tags: string[]
  format: string
  codec: string
  bodyStart: number
}

/** The header alone, from the stored text or bytes: enough for tag checks without the value. Undefined when not ours. */
export function decodeHeader(stored: string | Uint8Array): EntryHeader | undefined {
  const isText = typeof stored === 'string'
  const newline = isText ? stored.indexOf('\n') : stored.indexOf(NEWLINE)
  if (newline < 3) return undefined
  const line = isText
    ? stored.slice(0, newline)
    : Buffer.from(stored.buffer, stored.byteOffset, newline).toString('latin1')
  const v2 = line.startsWith(MAGIC_2)
  if (!v2 && !line.startsWith(MAGIC_1)) return undefined
  const fields = line.slice(MAGIC_1.length).split('\t')
  if (fields.length !== (v2 ? 6 : 4)) return undefined
  const createdAt = Number(fields[0])
  const expiresAt = Number(fields[1])
  const staleUntil = Number(fields[2])
  if (!Number.isFinite(createdAt) || !Number.isFinite(expiresAt) || !Number.isFinite(staleUntil))
    return undefined
  if (fields[0] === '' || fields[1] === '' || fields[2] === '' || staleUntil < expiresAt) return undefined
  const tags = fields[3] === '' ? [] : fields[3]!.split(',')
  const format = v2 ? fields[4]! : JSON_FORMAT
  const codec = v2 ? fields[5]! : ''
  return { createdAt, expiresAt, staleUntil, tags, format, codec, bodyStart: newline + 1 }
}

function corrupt(key: string, tier: string, why: string, cause?: unknown): CacheError {
  return new CacheError(
    CacheErrorCode.CORRUPT_ENTRY,
    `corrupt cache entry "${key}" in ${tier}: ${why}; it was deleted`,
    cause === undefined ? { key } : { key, cause },
  )
}

/**
 * Decodes what `encodeEntry` wrote (given as text or bytes), or returns {@link OTHER_FORMAT} when
 * its format is not the serializer's (another pod's format: a miss, counted by the caller, never
 * garbage). Throws CacheError E_CORRUPT_ENTRY (naming the key) for anything else, including a value
 * the serializer cannot read back. The entry carries its value's size (see `decodedValue`).
 */
export function decodeStored<T>(
  stored: string | Uint8Array,
  serializer: AnySerializer,
  key: string,
  tier: string,
): CacheEntry<T> | typeof OTHER_FORMAT {
  const header = decodeHeader(stored)
  if (header === undefined) throw corrupt(key, tier, 'not a Strata entry (expected an S1 or S2 header)')
  if (header.format !== serializer.name) return OTHER_FORMAT
  let body: string | Uint8Array
  let bytes: number
  if (typeof stored === 'string' && header.codec === '' && !serializer.binary) {
    body = stored.slice(header.bodyStart)
    bytes = -1
  } else {
    let raw: Uint8Array =
      typeof stored === 'string'
        ? Buffer.from(stored.slice(header.bodyStart), 'utf8')
        : stored.subarray(header.bodyStart)
    if (header.codec === 'deflate') {
      try {
        raw = inflateRawSync(raw, { maxOutputLength: MAX_INFLATED_BYTES })
      } catch (error) {
        throw corrupt(key, tier, 'its compressed value cannot be inflated', error)
      }
    } else if (header.codec !== '') throw corrupt(key, tier, `unknown codec "${header.codec}"`)
    bytes = raw.byteLength
    body = serializer.binary ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')
  }
  let value: unknown
  try {
    value = (serializer.deserialize as (data: string | Uint8Array) => unknown).call(serializer, body)
  } catch (error) {
    throw corrupt(key, tier, `the ${serializer.name} serializer cannot read its value`, error)
  }
  // The value was built for this read alone (DecodedEntry): a memory tier may take it over.
  const entry = new DecodedEntry(
    value as T,
    header.createdAt,
    header.expiresAt,
    header.staleUntil,
    tier,
    header.format,
    bytes === -1 ? (body as string) : bytes,
  )
  if (header.tags.length > 0) entry.tags = header.tags
  return entry
}

/** Like {@link decodeStored}, but an entry in another format is an E_CORRUPT_ENTRY error too. */
export function decodeEntry<T>(
  stored: string | Uint8Array,
  serializer: AnySerializer,
  key: string,
  tier: string,
): CacheEntry<T> {
  const entry = decodeStored<T>(stored, serializer, key, tier)
  if (entry === OTHER_FORMAT) {
    const format = decodeHeader(stored)?.format
    throw corrupt(key, tier, `written in format "${format}", read with the ${serializer.name} serializer`)
  }
  return entry
}
