/**
 * Which keys carry each tag. MemoryStore keeps it in step with the LRU from lru-cache's `dispose`
 * hook, which runs for every removal, so it cannot drift from what is held.
 */
export class TagIndex {
  private readonly keysByTag = new Map<string, Set<string>>()

  /** Records that `key` carries `tags`. */
  add(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      let keys = this.keysByTag.get(tag)
      if (keys === undefined) {
        keys = new Set()
        this.keysByTag.set(tag, keys)
      }
      keys.add(key)
    }
  }

  /** Forgets that `key` carries `tags`, dropping tags no key carries any more. */
  remove(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag)
      if (keys === undefined) continue
      keys.delete(key)
      if (keys.size === 0) this.keysByTag.delete(tag)
    }
  }

  /** Keys carrying any of `tags`, collected into a new set (safe to delete them while iterating it). */
  keysWithAny(tags: readonly string[]): Set<string> {
    const found = new Set<string>()
    for (const tag of tags) {
      const keys = this.keysByTag.get(tag)
      if (keys !== undefined) for (const key of keys) found.add(key)
    }
    return found
  }

  clear(): void {
    this.keysByTag.clear()
  }
}
