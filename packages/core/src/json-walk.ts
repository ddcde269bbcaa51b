// The JSON serializer's fast path: JSON.stringify with a replacer function leaves V8's fast
// serializer (~1.5x slower on a 1 KB object), so a value is first checked for anything the guard
// would change or refuse; only values that pass are handed to JSON.stringify as they are.

/** Values nested deeper than this take the guarded path (which is also where cycles end up). */
export const MAX_PLAIN_DEPTH = 256

const OBJECT_PROTO = Object.prototype
const ARRAY_PROTO = Array.prototype

/**
 * True when `JSON.stringify(value)` writes exactly what the guarded JsonSerializer writes: only
 * strings, finite numbers, booleans and null, in arrays (no holes, no undefined) and in objects
 * whose prototype is Object.prototype or null (undefined properties allowed: both paths drop them),
 * with no `toJSON` anywhere, at most {@link MAX_PLAIN_DEPTH} deep. False means "not sure": the
 * caller takes the guarded path, which encodes (Dates) or refuses with the property named.
 * Iterative, so no depth overflows the stack; a cycle runs into the depth bound. Getters are read
 * here and again by JSON.stringify (the replacer path read them twice as well).
 */
export function isPlainJson(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return isPlainLeaf(value)
  // Pairs of (container, depth); grows only with the containers not yet looked into.
  const pending: unknown[] = [value, 0]
  while (pending.length > 0) {
    const depth = pending.pop() as number
    const node = pending.pop() as Record<string, unknown>
    // A toJSON (own, inherited, enumerable or not) replaces the value: the guard must see its result.
    if (depth >= MAX_PLAIN_DEPTH || node.toJSON !== undefined) return false
    const proto = Object.getPrototypeOf(node)
    if (Array.isArray(node)) {
      if (proto !== ARRAY_PROTO) return false
      for (let i = 0; i < node.length; i++) {
        const item: unknown = node[i]
        switch (typeof item) {
          case 'string':
          case 'boolean':
            continue
          case 'number':
            if (item - item !== 0) return false // NaN or ±Infinity
            continue
          case 'object':
            if (item !== null) pending.push(item, depth + 1)
            continue
          default:
            return false // undefined (or a hole), function, symbol, bigint
        }
      }
    } else {
      if (proto !== OBJECT_PROTO && proto !== null) return false // Date, Map, Set, class instances…
      // for-in also lists enumerable inherited keys: looking at more than JSON writes is only cautious.
      for (const key in node) {
        const item = node[key]
        switch (typeof item) {
          case 'string':
          case 'boolean':
          case 'undefined': // dropped by JSON.stringify, as the guard lets it be
            continue
          case 'number':
            if (item - item !== 0) return false
            continue
          case 'object':
            if (item !== null) pending.push(item, depth + 1)
            continue
          default:
            return false
        }
      }
    }
  }
  return true
}

function isPlainLeaf(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return value - value === 0
    case 'object':
      return true // null
    default:
      return false
  }
}
