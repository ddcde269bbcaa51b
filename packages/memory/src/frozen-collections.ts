// Object.freeze does not protect a Map's or a Set's entries: they live in internal slots that set,
// add, delete and clear change. Frozen ones get these prototypes instead, whose mutators throw like
// a frozen property would. They inherit from Map.prototype / Set.prototype, so `instanceof`, `get`,
// `has`, iteration and `size` still work.
function frozenPrototype(base: object, mutators: readonly string[], kind: string): object {
  const prototype: object = Object.create(base)
  for (const name of mutators) {
    Object.defineProperty(prototype, name, {
      value: function refuse(): never {
        throw new TypeError(
          `Cannot call ${name}() on a cached ${kind}: cached values are frozen (copy it first)`,
        )
      },
    })
  }
  return Object.freeze(prototype)
}

const frozenMapPrototype = frozenPrototype(Map.prototype, ['set', 'delete', 'clear'], 'Map')
const frozenSetPrototype = frozenPrototype(Set.prototype, ['add', 'delete', 'clear'], 'Set')

/** The objects a Map's keys and values or a Set's items hold (for a deep walk); none for anything else. */
export function collectionChildren(node: object): object[] | undefined {
  if (node instanceof Map) {
    const children: object[] = []
    for (const [key, value] of node) {
      if (typeof key === 'object' && key !== null) children.push(key)
      if (typeof value === 'object' && value !== null) children.push(value)
    }
    return children
  }
  if (node instanceof Set) {
    const children: object[] = []
    for (const item of node) if (typeof item === 'object' && item !== null) children.push(item)
    return children
  }
  return undefined
}

/**
 * Freezes a Map or a Set (mutators refuse) and returns true; returns true for a typed array or a
 * Buffer, which JavaScript cannot freeze (its bytes stay writable: treat cached bytes as read-only);
 * false for anything else, left to Object.freeze.
 */
export function freezeCollection(node: object): boolean {
  if (node instanceof Map) Object.setPrototypeOf(node, frozenMapPrototype)
  else if (node instanceof Set) Object.setPrototypeOf(node, frozenSetPrototype)
  else return ArrayBuffer.isView(node)
  Object.freeze(node)
  return true
}
