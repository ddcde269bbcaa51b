import { CacheSerializationError } from './errors.ts'
import type { Serializer } from './serializer.ts'

// One key marks every value JSON cannot carry: `{ "$s": tag, "v": payload }`. A plain object that
// happens to own a "$s" key is itself wrapped (tag "o"), so no object reads back as something else.
const MARK = '$s'

type Tagged = { [MARK]: string; v?: unknown }

const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
}

/**
 * JSON text that round-trips what JSON cannot: `Date` (invalid ones too), `Map`, `Set`, `BigInt`,
 * `Uint8Array` and `Buffer` (and the other typed arrays), `undefined` inside objects and arrays,
 * `NaN`, `±Infinity` and `-0`. Class instances become plain objects (as with JSON); functions,
 * symbols, cycles, `RegExp`, `Error`, `WeakMap`/`WeakSet` and promises are refused (naming the
 * property), and so is a top-level `undefined` (it reads back as a miss). Portable and readable in
 * redis-cli; its name tags every entry, so a pod with another format reads it as a miss.
 */
export class StructuredSerializer implements Serializer {
  readonly name = 'structured'

  serialize(value: unknown): string {
    if (value === undefined) {
      throw new CacheSerializationError(
        'cannot cache undefined: it reads back as a miss (cache null instead)',
      )
    }
    try {
      return JSON.stringify(encode(value, '', new Set()))
    } catch (error) {
      if (error instanceof CacheSerializationError) throw error
      // A value nested deeper than the stack (or a property that throws when read): refused, not a crash.
      throw new CacheSerializationError(
        `cannot serialize value as structured JSON: ${(error as Error).message}`,
        {
          cause: error,
        },
      )
    }
  }

  deserialize(data: string | Uint8Array): unknown {
    const text = typeof data === 'string' ? data : Buffer.from(data).toString('utf8')
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new CacheSerializationError(`cannot parse cached structured JSON: ${(error as Error).message}`, {
        cause: error,
      })
    }
    try {
      return decode(parsed)
    } catch (error) {
      if (error instanceof CacheSerializationError) throw error
      throw new CacheSerializationError(`cannot read cached structured JSON: ${(error as Error).message}`, {
        cause: error,
      })
    }
  }
}

/** The shared StructuredSerializer. */
export const structuredSerializer: StructuredSerializer = new StructuredSerializer()

function refuse(path: string, what: string): CacheSerializationError {
  const where = path === '' ? 'the value' : `property "${path}"`
  return new CacheSerializationError(`cannot serialize value (structured): ${where} is ${what}`)
}

/** Sets an own property, `__proto__` included (an assignment would set the prototype instead). */
function put(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true })
  else out[key] = value
}

function child(path: string, key: string | number): string {
  return path === '' ? String(key) : `${path}.${key}`
}

/** `value` as JSON-safe data, special values tagged; `seen` holds the objects on the current path (cycles). */
function encode(value: unknown, path: string, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (Number.isFinite(value)) return Object.is(value, -0) ? { [MARK]: 'n', v: '-0' } : value
      return { [MARK]: 'n', v: String(value) }
    case 'bigint':
      return { [MARK]: 'b', v: value.toString() }
    case 'undefined':
      return { [MARK]: 'u' }
    case 'function':
      throw refuse(path, 'a function')
    case 'symbol':
      throw refuse(path, 'a symbol')
  }
  if (value === null) return null
  const object = value as object
  if (object instanceof Date) {
    const time = object.getTime()
    return { [MARK]: 'd', v: Number.isNaN(time) ? null : object.toISOString() }
  }
  if (ArrayBuffer.isView(object)) {
    const bytes = Buffer.from(object.buffer, object.byteOffset, object.byteLength).toString('base64')
    const kind = Buffer.isBuffer(object) ? 'Buffer' : object.constructor.name
    if (kind !== 'Buffer' && TYPED_ARRAYS[kind] === undefined) throw refuse(path, `a ${kind}`)
    return { [MARK]: 'a', t: kind, v: bytes }
  }
  if (seen.has(object)) throw refuse(path, 'a cycle (a value that contains itself)')
  if (object instanceof RegExp || object instanceof Error || object instanceof Promise)
    throw refuse(path, `a ${object.constructor.name}`)
  if (object instanceof WeakMap || object instanceof WeakSet)
    throw refuse(path, `a ${object.constructor.name}`)
  seen.add(object)
  try {
    if (Array.isArray(object)) return object.map((item, i) => encode(item, child(path, i), seen))
    if (object instanceof Map) {
      const entries: unknown[] = []
      let i = 0
      for (const [k, v] of object) {
        entries.push([
          encode(k, child(path, `<key ${i}>`), seen),
          encode(v, child(path, `<value ${i}>`), seen),
        ])
        i++
      }
      return { [MARK]: 'm', v: entries }
    }
    if (object instanceof Set) {
      const items: unknown[] = []
      let i = 0
      for (const item of object) items.push(encode(item, child(path, `<item ${i++}>`), seen))
      return { [MARK]: 's', v: items }
    }
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(object)) {
      put(out, key, encode((object as Record<string, unknown>)[key], child(path, key), seen))
    }
    return Object.hasOwn(out, MARK) ? { [MARK]: 'o', v: out } : out
  } finally {
    seen.delete(object)
  }
}

/** The value `encode` described. Throws CacheSerializationError for a tag it does not know. */
function decode(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return data
  if (Array.isArray(data)) return data.map(decode)
  const record = data as Record<string, unknown>
  if (!Object.hasOwn(record, MARK)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(record)) put(out, key, decode(record[key]))
    return out
  }
  const { [MARK]: tag, v } = record as Tagged
  switch (tag) {
    case 'u':
      return undefined
    case 'n':
      return Number(v)
    case 'b':
      return BigInt(v as string)
    case 'd':
      return new Date(v === null ? Number.NaN : (v as string))
    case 'a': {
      const bytes = Buffer.from(v as string, 'base64')
      const kind = (record as { t?: string }).t
      if (kind === 'Buffer') return bytes
      const Typed = kind === undefined ? undefined : TYPED_ARRAYS[kind]
      if (Typed === undefined) break
      const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
      return new Typed(copy as ArrayBuffer)
    }
    case 'm':
      return new Map((v as [unknown, unknown][]).map(([k, value]) => [decode(k), decode(value)]))
    case 's':
      return new Set((v as unknown[]).map(decode))
    case 'o': {
      const out: Record<string, unknown> = {}
      const inner = v as Record<string, unknown>
      for (const key of Object.keys(inner)) put(out, key, decode(inner[key]))
      return out
    }
  }
  throw new CacheSerializationError(`cannot read cached structured JSON: unknown tag ${JSON.stringify(tag)}`)
}
