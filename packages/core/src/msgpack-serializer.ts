import { createRequire } from 'node:module'
import { CacheOptionError, CacheSerializationError } from './errors.ts'
import type { Serializer } from './serializer.ts'

/** The part of a msgpackr `Packr` this serializer uses. */
interface Packr {
  pack(value: unknown): Uint8Array
  unpack(data: Uint8Array): unknown
}

/** Options of {@link MsgpackSerializer}. */
export interface MsgpackSerializerOptions {
  /**
   * Your own msgpackr `Packr` (e.g. with shared structures); every pod reading the entries must use
   * the same settings. @default new Packr({ structuredClone: true, moreTypes: true, useBigInt64: true, int64AsType: 'bigint' })
   */
  packr?: Packr
}

let msgpackr: { Packr: new (options: object) => Packr } | undefined

/** Loads msgpackr (an optional peer dependency) on first use; says what to install when it is missing. */
function loadMsgpackr(): { Packr: new (options: object) => Packr } {
  if (msgpackr !== undefined) return msgpackr
  try {
    // msgpackr ships CommonJS too: require it, whichever format this file was built to.
    msgpackr = createRequire(import.meta.url)('msgpackr') as { Packr: new (options: object) => Packr }
  } catch (error) {
    throw new CacheOptionError(
      'MsgpackSerializer needs the msgpackr package (npm install msgpackr@^1.11): it is an optional peer dependency of @strata-cache/core',
      { cause: error },
    )
  }
  return msgpackr
}

/**
 * MessagePack through msgpackr (an optional peer dependency, loaded when the first one is built):
 * bytes, usually smaller and faster than JSON for large values. Round-trips Date, Map, Set, BigInt
 * (up to 64 bits), typed arrays and Buffer, undefined, NaN and ±Infinity (not -0, which reads back
 * as 0); cycles too. Functions and symbols are refused.
 */
export class MsgpackSerializer implements Serializer<Uint8Array> {
  readonly name = 'msgpack'
  readonly binary = true
  private readonly packr: Packr

  constructor(options: MsgpackSerializerOptions = {}) {
    const { Packr } = loadMsgpackr()
    this.packr =
      options.packr ??
      new Packr({ structuredClone: true, moreTypes: true, useBigInt64: true, int64AsType: 'bigint' })
  }

  serialize(value: unknown): Uint8Array {
    if (value === undefined) {
      throw new CacheSerializationError(
        'cannot cache undefined: it reads back as a miss (cache null instead)',
      )
    }
    try {
      refuseOpaque(value, '', new Set())
      return this.packr.pack(value)
    } catch (error) {
      if (error instanceof CacheSerializationError) throw error
      // Anything else (a value nested deeper than the stack, an object msgpackr cannot read) is refused too.
      throw new CacheSerializationError(
        `cannot serialize value as MessagePack: ${(error as Error).message}`,
        {
          cause: error,
        },
      )
    }
  }

  deserialize(data: Uint8Array): unknown {
    try {
      if (!(data instanceof Uint8Array)) throw new TypeError('expected bytes')
      return this.packr.unpack(data)
    } catch (error) {
      throw new CacheSerializationError(`cannot read cached MessagePack: ${(error as Error).message}`, {
        cause: error,
      })
    }
  }
}

/** msgpackr would drop a function or symbol silently: refused instead, naming the property. */
function refuseOpaque(value: unknown, path: string, seen: Set<object>): void {
  if (typeof value === 'function' || typeof value === 'symbol') {
    const where = path === '' ? 'the value' : `property "${path}"`
    throw new CacheSerializationError(`cannot serialize value as MessagePack: ${where} is a ${typeof value}`)
  }
  if (typeof value !== 'object' || value === null || seen.has(value) || ArrayBuffer.isView(value)) return
  seen.add(value)
  const at = (key: string) => (path === '' ? key : `${path}.${key}`)
  if (value instanceof Map) for (const [k, v] of value) refuseOpaque(v, at(String(k)), seen)
  else if (value instanceof Set) for (const v of value) refuseOpaque(v, at('<item>'), seen)
  else
    for (const key of Object.keys(value)) refuseOpaque((value as Record<string, unknown>)[key], at(key), seen)
}
