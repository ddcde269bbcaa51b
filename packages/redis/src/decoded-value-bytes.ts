import type { CacheEntry } from '@strata-cache/core'

// A registered symbol, so that two copies of this package in one process still agree on it.
const DECODED_VALUE_BYTES: unique symbol = Symbol.for('@strata-cache/redis:decoded-value-bytes') as never

/**
 * Marks an entry `decodeEntry` just parsed from JSON text of `bytes` UTF-8 bytes. The mark is a
 * non-enumerable symbol property: JSON, spreads, `Object.keys` and equality checks never see it.
 * It promises that the value was built for this read alone (nobody else holds it), so a memory tier
 * may take it over, freezing it in place instead of copying it, and count `bytes` as its size.
 */
export function markDecodedValueBytes(entry: CacheEntry<unknown>, bytes: number): void {
  Object.defineProperty(entry, DECODED_VALUE_BYTES, { value: bytes })
}

/**
 * The UTF-8 length of the JSON text a RedisStore read decoded this entry's value from, or undefined
 * when the entry does not carry the mark (not read by a RedisStore with the JSON serializer, or a
 * copy: the mark is not copied by spreads). See {@link markDecodedValueBytes} for what it promises.
 */
export function decodedValueBytes(entry: CacheEntry<unknown>): number | undefined {
  return (entry as { [DECODED_VALUE_BYTES]?: number })[DECODED_VALUE_BYTES]
}
