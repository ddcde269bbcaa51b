import { type AnySerializer, CacheError, CacheSerializationError } from '@strata-cache/core'
import { deepFreeze } from './deep-freeze.ts'
import { refuseUndefined } from './entry-checks.ts'
import { MemoryValueMode, type ResolvedMemoryStoreOptions } from './memory-store-options.ts'
import { assertFits, referenceSize } from './value-size.ts'

/** A value as the store keeps it, and the bytes it counts for. */
export interface StoredValue {
  value: unknown
  size: number
}

/**
 * What the store keeps for `value`, checked before anything is written: a deep-frozen JSON copy
 * sized by its JSON text (`frozen-copy`), the value itself frozen in place and sized `ownedSize`
 * (`fill` on a `frozen-copy` store), or the value as given sized by `sizeOf` (`reference`).
 * Throws what `set` rejects with: unserializable or undefined, over maxBytes, a bad sizeOf.
 */
export function storedValue(
  options: ResolvedMemoryStoreOptions,
  label: string,
  key: string,
  value: unknown,
  ownedSize: number | undefined,
): StoredValue {
  if (options.values === MemoryValueMode.FROZEN_COPY && ownedSize !== undefined) {
    refuseUndefined(label, key, value)
    // lru-cache needs a positive integer size (JSON text is never empty anyway).
    const size = Math.max(1, ownedSize)
    assertFits(options.maxBytes, label, key, size)
    return { value: frozen(label, key, value), size }
  }
  if (options.values === MemoryValueMode.FROZEN_COPY)
    return frozenCopy(options.serializer, options.maxBytes, label, key, value)
  refuseUndefined(label, key, value)
  const size = referenceSize(options.sizeOf, label, key, value)
  assertFits(options.maxBytes, label, key, size)
  return { value, size }
}

/** The value deep-frozen; one nested too deep is refused (CacheSerializationError naming the key), nothing frozen. */
function frozen(label: string, key: string, value: unknown): unknown {
  try {
    return deepFreeze(value)
  } catch (error) {
    if (!CacheError.is(error)) throw error
    throw new CacheSerializationError(`${label}.set("${key}"): ${error.message}`, { key, cause: error })
  }
}

/** A deep-frozen copy made by a round trip through the store's serializer, sized by its serialized length in bytes. */
function frozenCopy(
  serializer: AnySerializer,
  maxBytes: number | undefined,
  label: string,
  key: string,
  value: unknown,
): StoredValue {
  let text: string | Uint8Array
  try {
    text = serializer.serialize(value)
  } catch (error) {
    if (CacheError.is(error)) {
      throw new CacheSerializationError(`${label}.set("${key}"): ${error.message}`, {
        key,
        cause: error,
      })
    }
    throw error
  }
  // lru-cache needs a positive integer size.
  const size = Math.max(1, typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : text.byteLength)
  assertFits(maxBytes, label, key, size)
  const copy = (serializer.deserialize as (data: string | Uint8Array) => unknown).call(serializer, text)
  return { value: frozen(label, key, copy), size }
}

/**
 * The deep-frozen value a text slot's `text` holds (see MemoryStore.fillText), parsed by the store's
 * serializer; throws when it cannot read it back or the value is too deep to freeze.
 */
export function parsedValue(serializer: AnySerializer, label: string, key: string, text: string): unknown {
  const value = (serializer.deserialize as (data: string) => unknown).call(serializer, text)
  refuseUndefined(label, key, value)
  return frozen(label, key, value)
}
