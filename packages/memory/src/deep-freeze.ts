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
 * Freezes a value the JSON serializer produced (plain objects, arrays, primitives and Dates), all
 * the way down, and returns it. Only ever called on fresh copies, or on values handed over with
 * `MemoryStore.fill` (which nobody else holds), never on a caller's object.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Date) {
    Object.setPrototypeOf(value, frozenDatePrototype)
    return Object.freeze(value)
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i])
  } else {
    for (const key in value) deepFreeze((value as Record<string, unknown>)[key])
  }
  return Object.freeze(value)
}
