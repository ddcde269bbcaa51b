import { type CacheEntry, type CacheStore, jsonSerializer } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { decodeEntry, encodeEntry } from '@strata-cache/redis/internal'

/**
 * A real MemoryStore whose next `get` can be held open by the test: the value is read when the
 * read starts (as Redis would answer) but handed back only when the test releases it. This makes
 * "an invalidation arrives while the L2 read is in flight" deterministic.
 */
export class GatedStore implements CacheStore {
  readonly name = 'l2'
  readonly inner = new MemoryStore({ name: 'l2' })
  /** Hand back each read as RedisStore does: a fresh object decoded from its JSON text (marked with its size). */
  decoded = false
  private gate: Promise<void> | undefined
  /** Resolves when a held read has read its value. */
  private onHeld: (() => void) | undefined

  /** Holds the next get; returns { reading, release }: `reading` resolves once the read has its value. */
  holdNextGet(): { reading: Promise<void>; release: () => void } {
    let release!: () => void
    this.gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const reading = new Promise<void>((resolve) => {
      this.onHeld = resolve
    })
    return { reading, release }
  }

  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    const entry = await this.inner.get<T>(key)
    const gate = this.gate
    if (gate !== undefined) {
      this.gate = undefined
      this.onHeld?.()
      await gate
    }
    if (entry === undefined) return undefined
    if (this.decoded)
      return decodeEntry<T>(encodeEntry(entry, jsonSerializer), jsonSerializer, key, this.name)
    return { ...entry, tier: this.name }
  }

  set<T>(key: string, entry: CacheEntry<T>): Promise<void> {
    return this.inner.set(key, entry)
  }
  delete(key: string): Promise<boolean> {
    return this.inner.delete(key)
  }
  deletePattern(pattern: string): Promise<number> {
    return this.inner.deletePattern(pattern)
  }
  deleteTags(tags: readonly string[]): Promise<number> {
    return this.inner.deleteTags(tags)
  }
  clear(): Promise<void> {
    return this.inner.clear()
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}
