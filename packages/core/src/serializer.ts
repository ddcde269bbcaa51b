import { CacheSerializationError } from './errors.ts'

/** Turns values into text for stores that hold bytes (Redis) and back. Both directions may throw CacheSerializationError. */
export interface Serializer {
  readonly name: string
  serialize(value: unknown): string
  deserialize(data: string): unknown
}

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
      text = JSON.stringify(value, guard)
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

  deserialize(data: string): unknown {
    try {
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
export const jsonSerializer: Serializer = new JsonSerializer()
