import { CacheSerializationError } from '@strata-cache/core'
import { collectionChildren, freezeCollection } from './frozen-collections.ts'

// Object.freeze does not protect a Date: its time lives in an internal slot that the set* methods
// change. Frozen Dates get this prototype instead, whose setters throw like a frozen property would.
// It inherits from Date.prototype, so `instanceof Date`, `constructor` and every getter still work.
const frozenDatePrototype: object = Object.create(Date.prototype)
for (const name of Object.getOwnPropertyNames(Date.prototype)) {
  if (!name.startsWith('set')) continue
  Object.defineProperty(frozenDatePrototype, name, {
    value: function refuse(this: Date): never {
      throw new TypeError(`Cannot call ${name}() on a cached Date: cached values are frozen (copy it first)`)
    },
  })
}
Object.freeze(frozenDatePrototype)

/**
 * Deepest nesting of objects and arrays a frozen value may have (the value itself is level 1). No
 * honest cached value comes near it (JSON.stringify itself overflows the stack a few thousand
 * levels down), and a value parsed from a crafted L2 entry (JSON.parse goes deeper) is refused
 * rather than held for whoever walks it next.
 */
export const MAX_VALUE_DEPTH = 1000

/**
 * Freezes a value the store's serializer produced (plain objects, arrays, primitives, Dates, and
 * with a richer serializer Maps and Sets; typed arrays cannot be frozen), all the way down, and
 * returns it. Only ever called on fresh copies, or on values handed over with
 * `MemoryStore.fill` (which nobody else holds), never on a caller's object.
 *
 * Iterative, so depth cannot overflow the stack; a value nested deeper than {@link MAX_VALUE_DEPTH}
 * levels is refused with a CacheSerializationError before anything is frozen.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  // Walk first, freeze after: a refusal leaves the value as it was.
  const found: object[] = []
  const pending: object[] = [value]
  const depths: number[] = [1]
  while (pending.length > 0) {
    const node = pending.pop()!
    const depth = depths.pop()!
    found.push(node)
    if (node instanceof Date || ArrayBuffer.isView(node)) continue
    const before = pending.length
    const members = collectionChildren(node)
    if (members !== undefined) for (const member of members) pending.push(member)
    else if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const child: unknown = node[i]
        if (typeof child === 'object' && child !== null) pending.push(child)
      }
    } else {
      for (const key in node) {
        const child: unknown = (node as Record<string, unknown>)[key]
        if (typeof child === 'object' && child !== null) pending.push(child)
      }
    }
    if (pending.length === before) continue
    if (depth === MAX_VALUE_DEPTH) {
      throw new CacheSerializationError(
        `the value is nested deeper than ${MAX_VALUE_DEPTH} levels (objects and arrays); flatten it`,
      )
    }
    for (let i = before; i < pending.length; i++) depths.push(depth + 1)
  }
  for (const node of found) {
    if (node instanceof Date) Object.setPrototypeOf(node, frozenDatePrototype)
    else if (freezeCollection(node)) continue
    Object.freeze(node)
  }
  return value
}
