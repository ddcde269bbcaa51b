import { type AnySerializer, CacheOptionError, jsonSerializer } from '@strata-cache/core'
import { assertKnownOptions } from '@strata-cache/core/internal'

/** How MemoryStore holds values. */
export const MemoryValueMode = {
  /** Stores a deep-frozen JSON copy: callers share it safely, and it has exactly the shape Redis would give back. */
  FROZEN_COPY: 'frozen-copy',
  /** Stores the caller's object as given: fastest, but mutating it changes what every caller sees. */
  REFERENCE: 'reference',
} as const

export type MemoryValueMode = (typeof MemoryValueMode)[keyof typeof MemoryValueMode]

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Tier name reported on entries (`entry.tier`), in stats and in health. @default 'memory' */
  name?: string
  /** Most entries held; the least recently used goes first. @default 10_000 */
  maxEntries?: number
  /** Most bytes held, counted as each entry's size (see `values`); unbounded when left out. */
  maxBytes?: number
  /** Clock in epoch ms, read on every call (so fake timers work). @default () => Date.now() */
  now?: () => number
  /** `'frozen-copy'` or `'reference'`; see the README for what each promises. @default 'frozen-copy' */
  values?: MemoryValueMode
  /**
   * Size in bytes of a value held by reference, for `maxBytes` and `stats().bytes`. Only with
   * `values: 'reference'` (a frozen copy is measured by its serialized length).
   */
  sizeOf?: (value: unknown, key: string) => number
  /**
   * How `'frozen-copy'` copies a value (serialize, then deserialize) and measures it (the serialized
   * length): give L1 the serializer of L2 (createCache does), so that L1 holds what L2 would give
   * back and accepts what L2 accepts (Map, Set, BigInt... with a richer serializer than JSON).
   * @default jsonSerializer from @strata-cache/core
   */
  serializer?: AnySerializer
}

/** Options after defaults and checks. */
export interface ResolvedMemoryStoreOptions {
  name: string
  maxEntries: number
  maxBytes: number | undefined
  now: () => number
  values: MemoryValueMode
  sizeOf: ((value: unknown, key: string) => number) | undefined
  serializer: AnySerializer
}

const KNOWN_OPTIONS = ['name', 'maxEntries', 'maxBytes', 'now', 'values', 'sizeOf', 'serializer'] as const
const NAME_PATTERN = /^[A-Za-z0-9:_.-]{1,64}$/

/** Applies defaults and throws a CacheOptionError naming the first bad option. */
export function resolveMemoryStoreOptions(
  options: MemoryStoreOptions | undefined,
): ResolvedMemoryStoreOptions {
  const where = 'MemoryStore'
  assertKnownOptions(where, options, KNOWN_OPTIONS)
  const o = options ?? {}

  const name = o.name ?? 'memory'
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw bad('name', `must be 1 to 64 characters of A-Z a-z 0-9 : _ - . , got ${show(name)}`)
  }
  const maxEntries = o.maxEntries ?? 10_000
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw bad('maxEntries', `must be a positive integer, got ${show(maxEntries)}`)
  }
  const maxBytes = o.maxBytes
  if (maxBytes !== undefined && (!Number.isSafeInteger(maxBytes) || maxBytes < 1)) {
    throw bad('maxBytes', `must be a positive integer number of bytes, got ${show(maxBytes)}`)
  }
  const now = o.now ?? (() => Date.now())
  if (typeof now !== 'function') throw bad('now', `must be a function returning epoch ms, got ${show(now)}`)
  const values = o.values ?? MemoryValueMode.FROZEN_COPY
  if (values !== MemoryValueMode.FROZEN_COPY && values !== MemoryValueMode.REFERENCE) {
    throw bad('values', `must be 'frozen-copy' or 'reference', got ${show(values)}`)
  }
  const sizeOf = o.sizeOf
  if (sizeOf !== undefined && typeof sizeOf !== 'function') {
    throw bad('sizeOf', `must be a function (value, key) => bytes, got ${show(sizeOf)}`)
  }
  if (sizeOf !== undefined && values !== MemoryValueMode.REFERENCE) {
    throw bad(
      'sizeOf',
      "is only used with values: 'reference' (a frozen copy is measured by its serialized size)",
    )
  }
  if (values === MemoryValueMode.REFERENCE && maxBytes !== undefined && sizeOf === undefined) {
    throw bad('maxBytes', "with values: 'reference' needs a sizeOf option to measure values")
  }
  const serializer = o.serializer ?? jsonSerializer
  if (typeof serializer?.serialize !== 'function' || typeof serializer.deserialize !== 'function') {
    throw bad('serializer', 'must be a Serializer (name, serialize, deserialize)')
  }
  if (o.serializer !== undefined && values !== MemoryValueMode.FROZEN_COPY) {
    throw bad(
      'serializer',
      "is only used with values: 'frozen-copy' (a value held by reference is not copied)",
    )
  }
  return { name, maxEntries, maxBytes, now, values, sizeOf, serializer }
}

function bad(option: string, what: string): CacheOptionError {
  return new CacheOptionError(`MemoryStore: option "${option}" ${what}`, { option })
}

function show(value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object'
  return String(value)
}
