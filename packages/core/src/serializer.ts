import { CacheSerializationError } from './errors.ts'
import { isPlainJson } from './json-walk.ts'

/**
 * Turns values into text (`Serializer`) or bytes (`Serializer<Uint8Array>`, with `binary: true`)
 * for stores that hold bytes (Redis; MemoryStore's frozen copies) and back. Both directions may
 * throw CacheSerializationError.
 */
export interface Serializer<Data extends string | Uint8Array = string> {
  /**
   * Names the format; stores tag every entry with it, so a reader whose serializer has another name
   * reads the entry as a miss (counted) instead of misreading it. 1 to 32 of `A-Z a-z 0-9 . _ -`.
   */
  readonly name: string
  /** True for a serializer of bytes (`Serializer<Uint8Array>`): `deserialize` is handed a Uint8Array. @default false (text) */
  readonly binary?: boolean
  /** The value as text (or bytes); throws CacheSerializationError for what it cannot encode. */
  serialize(value: unknown): Data
  /** What `serialize` produced, back as a value. */
  deserialize(data: Data): unknown
}

/** A serializer of text or of bytes: what stores take. */
export type AnySerializer = Serializer<string> | Serializer<Uint8Array>

// Dates survive the round trip as Dates, under a marker no plain JSON object is likely to use.
const DATE_MARKER = '$strata:date'

/**
 * JSON with guard rails: values JSON would silently change are refused instead of corrupted.
 * Accepts plain objects, arrays, strings, finite numbers, booleans, null and Dates (revived as Dates).
 * Refuses functions, symbols, BigInt, NaN/Infinity, Map, Set, cycles and a top-level undefined,
 * naming the property at fault.
 */
export class JsonSerializer implements Serializer {
  readonly name = 'json'

  serialize(value: unknown): string {
    if (value === undefined) {
      throw new CacheSerializationError(
        'cannot cache undefined: it reads back as a miss (cache null instead)',
      )
    }
    let text: string | undefined
    try {
      // Plain data (the common case) skips the replacer, which costs V8 its fast serializer; the rest
      // (Dates, anything to refuse, very deep values) goes through `guard` as before.
      text = isPlainJson(value) ? JSON.stringify(value) : JSON.stringify(value, guard)
    } catch (error) {
      if (error instanceof CacheSerializationError) throw error
      const reason = /circular/i.test(String(error))
        ? 'it contains a cycle'
        : String((error as Error).message)
      throw new CacheSerializationError(`cannot serialize value as JSON: ${reason}`, { cause: error })
    }
    if (text === undefined) throw new CacheSerializationError(`cannot serialize a ${typeof value} as JSON`)
    return text
  }

  deserialize(input: string | Uint8Array): unknown {
    const data = typeof input === 'string' ? input : Buffer.from(input).toString('utf8')
    try {
      // The scan costs ~2 % of the parse of a 1 KB text; the reviver would cost far more.
      return data.includes(DATE_MARKER) ? JSON.parse(data, reviveDates) : JSON.parse(data)
    } catch (error) {
      throw new CacheSerializationError(`cannot parse cached JSON: ${(error as Error).message}`, {
        cause: error,
      })
    }
  }
}

function guard(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key]
  if (original instanceof Date) {
    if (Number.isNaN(original.getTime())) throw refuse(key, 'an invalid Date')
    return { [DATE_MARKER]: original.toISOString() }
  }
  switch (typeof value) {
    case 'function':
      throw refuse(key, 'a function')
    case 'symbol':
      throw refuse(key, 'a symbol')
    case 'bigint':
      throw refuse(key, 'a BigInt (convert it to a string)')
    case 'undefined':
      // JSON drops undefined object properties silently, which is what callers expect of JSON;
      // in arrays it would become null, which changes the value.
      if (Array.isArray(this)) throw refuse(key, 'undefined inside an array')
      return value
    case 'number':
      if (!Number.isFinite(value)) throw refuse(key, `${value} (not a finite number)`)
      return value
    case 'object':
      if (value instanceof Map) throw refuse(key, 'a Map (convert it with Object.fromEntries)')
      if (value instanceof Set) throw refuse(key, 'a Set (convert it to an array)')
      return value
    default:
      return value
  }
}

function refuse(key: string, what: string): CacheSerializationError {
  const where = key === '' ? 'the value' : `property "${key}"`
  return new CacheSerializationError(`cannot serialize value as JSON: ${where} is ${what}`)
}

function reviveDates(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && DATE_MARKER in value) {
    const iso = (value as Record<string, unknown>)[DATE_MARKER]
    if (typeof iso === 'string' && Object.keys(value).length === 1) return new Date(iso)
  }
  return value
}

/** The default serializer instance. */
export const jsonSerializer: JsonSerializer = new JsonSerializer()
