import type { CacheEntry } from '@strata-cache/core'

/**
 * An entry `decodeStored` just decoded. It looks and behaves like a plain entry (same own
 * properties, same JSON; spreads and copies are plain objects); private fields keep the format its
 * value was decoded from and the size of the serialized value (the text itself, measured only when
 * asked, or its byte count), which promise that the value was built for this read alone, so a
 * memory tier of the same format may take it over (freeze it in place instead of copying it) and
 * count that size. A class with private fields, because it costs next to nothing per read where
 * `Object.defineProperty` of a hidden property did not.
 */
export class DecodedEntry<T> implements CacheEntry<T> {
  value: T
  createdAt: number
  expiresAt: number
  staleUntil: number
  declare tags?: readonly string[]
  readonly tier: string
  readonly #format: string
  readonly #size: string | number

  constructor(
    value: T,
    createdAt: number,
    expiresAt: number,
    staleUntil: number,
    tier: string,
    format: string,
    size: string | number,
  ) {
    this.value = value
    this.createdAt = createdAt
    this.expiresAt = expiresAt
    this.staleUntil = staleUntil
    this.tier = tier
    this.#format = format
    this.#size = size
  }

  /** The format and serialized size of `entry`'s value; undefined for any other entry (or a copy of one). */
  static of(entry: CacheEntry<unknown>): { format: string; bytes: number } | undefined {
    if (!(#format in entry)) return undefined
    // Measured only when asked (by a fill), not on every read.
    const size = entry.#size
    return { format: entry.#format, bytes: typeof size === 'string' ? Buffer.byteLength(size, 'utf8') : size }
  }
}

/**
 * The format (serializer name) and the size in bytes of the serialized value a RedisStore read (or
 * `decodeStored`) decoded this entry's value from: present only on the entry object that read
 * returned, whose value nobody else holds. Undefined for any other entry, including copies.
 */
export function decodedValue(entry: CacheEntry<unknown>): { format: string; bytes: number } | undefined {
  return DecodedEntry.of(entry)
}

/**
 * The UTF-8 length of the JSON text a RedisStore read (or `decodeEntry` with a JSON serializer)
 * decoded this entry's value from: present only on the entry object that read returned, whose
 * value nobody else holds. Undefined for any other entry (another format included), and for copies.
 */
export function decodedValueBytes(entry: CacheEntry<unknown>): number | undefined {
  const decoded = DecodedEntry.of(entry)
  return decoded?.format === 'json' ? decoded.bytes : undefined
}
