import type { CacheEntry } from '@strata-cache/core'

/**
 * An entry `decodeEntry` just parsed with the stock JSON serializer. It looks and behaves like a
 * plain entry (same own properties, same JSON; spreads and copies are plain objects); a private
 * field keeps the JSON text of its value, which promises that the value was built for this read
 * alone, so a memory tier may take it over (freeze it in place instead of copying it) and count
 * that text's length as its size. A class with a private field, because it costs next to nothing
 * per read where `Object.defineProperty` of a hidden property did not.
 */
export class DecodedEntry<T> implements CacheEntry<T> {
  value: T
  createdAt: number
  expiresAt: number
  staleUntil: number
  declare tags?: readonly string[]
  readonly tier: string
  readonly #text: string

  constructor(
    value: T,
    createdAt: number,
    expiresAt: number,
    staleUntil: number,
    tier: string,
    text: string,
  ) {
    this.value = value
    this.createdAt = createdAt
    this.expiresAt = expiresAt
    this.staleUntil = staleUntil
    this.tier = tier
    this.#text = text
  }

  /** The UTF-8 length of the JSON text `entry`'s value was decoded from; undefined for any other entry (or a copy of one). */
  static valueBytes(entry: CacheEntry<unknown>): number | undefined {
    // Measured only when asked (by a fill), not on every read.
    return #text in entry ? Buffer.byteLength(entry.#text, 'utf8') : undefined
  }
}

/**
 * The UTF-8 length of the JSON text a RedisStore read (or `decodeEntry` with the stock JSON
 * serializer) decoded this entry's value from: present only on the entry object that read
 * returned, whose value nobody else holds. Undefined for any other entry, including copies.
 */
export function decodedValueBytes(entry: CacheEntry<unknown>): number | undefined {
  return DecodedEntry.valueBytes(entry)
}
