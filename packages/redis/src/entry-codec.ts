import {
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  JsonSerializer,
  type Serializer,
} from '@strata-cache/core'
import { DecodedEntry } from './decoded-entry.ts'

// Versioned header, then the serialized value. A text header keeps the value's bytes as the
// serializer wrote them (no JSON-in-JSON escaping) and lets a reader check timing without parsing the value.
//   S1 \t createdAt \t expiresAt \t staleUntil \t tag,tag \n <value>
const MAGIC = 'S1\t'

/** Encodes an entry as one Redis string. Throws what the serializer throws (CacheSerializationError). */
export function encodeEntry(entry: CacheEntry, serializer: Serializer): string {
  const payload = serializer.serialize(entry.value)
  const tags = entry.tags === undefined ? '' : entry.tags.join(',')
  return `${MAGIC}${entry.createdAt}\t${entry.expiresAt}\t${entry.staleUntil}\t${tags}\n${payload}`
}

/** The header alone: enough for tag checks without deserializing the value. Undefined when not ours. */
export function decodeHeader(
  text: string,
):
  | { createdAt: number; expiresAt: number; staleUntil: number; tags: string[]; bodyStart: number }
  | undefined {
  if (!text.startsWith(MAGIC)) return undefined
  const newline = text.indexOf('\n', MAGIC.length)
  if (newline < 0) return undefined
  const fields = text.slice(MAGIC.length, newline).split('\t')
  if (fields.length !== 4) return undefined
  const createdAt = Number(fields[0])
  const expiresAt = Number(fields[1])
  const staleUntil = Number(fields[2])
  if (!Number.isFinite(createdAt) || !Number.isFinite(expiresAt) || !Number.isFinite(staleUntil))
    return undefined
  if (fields[0] === '' || fields[1] === '' || fields[2] === '' || staleUntil < expiresAt) return undefined
  const tags = fields[3] === '' ? [] : fields[3]!.split(',')
  return { createdAt, expiresAt, staleUntil, tags, bodyStart: newline + 1 }
}

/**
 * Decodes what `encodeEntry` wrote. Throws CacheError E_CORRUPT_ENTRY (naming the key) for anything
 * else, including a value the serializer cannot read back. With the JSON serializer the entry
 * carries the value's text length (see `decodedValueBytes`).
 */
export function decodeEntry<T>(
  text: string,
  serializer: Serializer,
  key: string,
  tier: string,
): CacheEntry<T> {
  const header = decodeHeader(text)
  if (header === undefined) {
    throw new CacheError(
      CacheErrorCode.CORRUPT_ENTRY,
      `corrupt cache entry "${key}" in ${tier}: not a Strata entry (expected the S1 header); it was deleted`,
      { key },
    )
  }
  const body = text.slice(header.bodyStart)
  let value: unknown
  try {
    value = serializer.deserialize(body)
  } catch (error) {
    throw new CacheError(
      CacheErrorCode.CORRUPT_ENTRY,
      `corrupt cache entry "${key}" in ${tier}: the ${serializer.name} serializer cannot read its value; it was deleted`,
      { key, cause: error },
    )
  }
  // The stock JSON serializer's output is what a memory tier would have made of a copy (plain JSON
  // values and Dates), so the entry says so (DecodedEntry): L1 may freeze the value as is.
  const entry: { -readonly [K in keyof CacheEntry<T>]: CacheEntry<T>[K] } =
    Object.getPrototypeOf(serializer) === JsonSerializer.prototype
      ? new DecodedEntry(value as T, header.createdAt, header.expiresAt, header.staleUntil, tier, body)
      : {
          value: value as T,
          createdAt: header.createdAt,
          expiresAt: header.expiresAt,
          staleUntil: header.staleUntil,
          tier,
        }
  if (header.tags.length > 0) entry.tags = header.tags
  return entry
}
