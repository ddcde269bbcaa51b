import type { CacheEntry } from '@strata-cache/core'

// A registered symbol, so that two copies of this package in one process still agree on it.
const CAPTURE: unique symbol = Symbol.for('@strata-cache/redis:encoded-value-capture') as never

/** Where `encodeEntry` leaves the JSON text it made of a value, when asked to (see {@link withEncodedValueCapture}). */
export interface EncodedValue {
  /** The value's JSON text, as written to Redis; unset when the serializer is not the stock JSON one. */
  text?: string
}

/**
 * A copy of `entry` that asks `encodeEntry` to leave the JSON text of its value in `holder`, so a
 * memory tier written next can parse that text instead of serializing the value a second time. The
 * request is a non-enumerable symbol property: stores that do not know it never see it.
 */
export function withEncodedValueCapture<E extends CacheEntry<unknown>>(entry: E, holder: EncodedValue): E {
  const copy = { ...entry }
  Object.defineProperty(copy, CAPTURE, { value: holder })
  return copy
}

/** Called by `encodeEntry` with the stock JSON serializer: fills the holder the entry asks for, if any. */
export function captureEncodedValue(entry: CacheEntry<unknown>, text: string): void {
  const holder = (entry as { [CAPTURE]?: EncodedValue })[CAPTURE]
  if (holder !== undefined) holder.text = text
}
