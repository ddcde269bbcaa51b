import { globMatcher } from '@strata-cache/core/internal'
import type { Invalidation } from './invalidation.ts'

/** Repairs kept until L2 is back; past this, they collapse into one clear of the prefix. @default 10_000 */
export const DEFAULT_MAX_REPAIRS = 10_000

/** What the journal did, for events and counters. */
export interface RepairCounters {
  /** Writes and invalidations L2 could not apply (not reached, or no answer in time), kept for replay. */
  queued: number
  /** Repairs applied to L2 after it came back (their bus notices went out after them). */
  replayed: number
  /** Times the journal passed its bound and became one clear of the prefix. */
  collapsed: number
}

/** A repair to apply, and the journal position it was read at (see `done`). */
export interface PendingRepair {
  readonly invalidation: Invalidation
  readonly stamp: number
}

/**
 * Removals L2 has not confirmed: deletes, patterns, tags and clears on their way to L2, and those
 * L2 could not apply (a failed `set` becomes a delete of its key, so no older value stays behind).
 * Kept in memory across reconnects (not across a restart), replayed in order when L2 answers again,
 * each followed by its bus notice. Latest wins per key; past `maxRepairs` everything collapses into
 * one clear of the prefix.
 *
 * While a removal is pending, an L2 read of a key it covers may return what it will remove:
 * `covers` says so, and the store treats such a read as a miss (a pod reads its own deletes).
 */
export class L2Repairs {
  // Each item remembers the stamp of its latest add: `done` forgets only what was not re-added since.
  private readonly keys = new Map<string, number>()
  private readonly patterns = new Map<string, { stamp: number; matches: (key: string) => boolean }>()
  private readonly tags = new Map<string, number>()
  private clearStamp = 0
  private stamp = 0
  readonly counters: RepairCounters = { queued: 0, replayed: 0, collapsed: 0 }

  constructor(private readonly maxRepairs = DEFAULT_MAX_REPAIRS) {}

  /** Pending repairs (a clear counts as one). */
  get size(): number {
    return this.clearStamp > 0 ? 1 : this.keys.size + this.patterns.size + this.tags.size
  }

  /**
   * Registers what `invalidation` removes, before it is sent to L2; `applied(handle)` forgets it once
   * L2 confirms. `collapsed` is true when this made the journal collapse into one clear.
   */
  add(invalidation: Invalidation): { handle: PendingRepair; collapsed: boolean } {
    const stamp = ++this.stamp
    const handle: PendingRepair = { invalidation, stamp }
    return { handle, collapsed: this.register(invalidation, stamp) }
  }

  /** L2 could not apply a registered removal: it stays for replay (counted). */
  failed(): void {
    this.counters.queued++
  }

  /** L2 applied `handle`'s removal: forget it, unless it was registered again since. */
  applied(handle: PendingRepair): void {
    this.forget(handle)
  }

  private register(invalidation: Invalidation, stamp: number): boolean {
    if (this.clearStamp > 0) {
      // A clear is pending and covers this too; it must now be replayed after this failure as well.
      this.clearStamp = stamp
      return false
    }
    switch (invalidation.kind) {
      case 'key':
        for (const key of invalidation.keys) {
          this.keys.delete(key) // latest wins: it moves to the end
          this.keys.set(key, stamp)
        }
        break
      case 'pattern':
        this.patterns.delete(invalidation.pattern)
        this.patterns.set(invalidation.pattern, { stamp, matches: globMatcher(invalidation.pattern) })
        break
      case 'tags':
        for (const tag of invalidation.tags) this.tags.set(tag, stamp)
        break
      case 'clear':
        this.collapse(stamp)
        return false
    }
    if (this.size > this.maxRepairs) {
      this.collapse(stamp)
      this.counters.collapsed++
      return true
    }
    return false
  }

  /** A later write of `key` reached L2 and its own notice covers the key: the delete is moot. */
  settled(key: string): void {
    this.keys.delete(key)
  }

  /** True when a value read from L2 for `key` (carrying `tags`) may be one a pending repair removes. */
  covers(key: string, tags?: readonly string[]): boolean {
    if (this.clearStamp > 0 || this.keys.has(key)) return true
    if (tags !== undefined && this.tags.size > 0) for (const tag of tags) if (this.tags.has(tag)) return true
    for (const { matches } of this.patterns.values()) if (matches(key)) return true
    return false
  }

  /** The pending repairs in the order to apply them: a clear alone, else keys, patterns, tags. */
  pending(): PendingRepair[] {
    const stamp = this.stamp
    if (this.clearStamp > 0) return [{ invalidation: { kind: 'clear' }, stamp }]
    const out: PendingRepair[] = []
    if (this.keys.size > 0) out.push({ invalidation: { kind: 'key', keys: [...this.keys.keys()] }, stamp })
    for (const pattern of this.patterns.keys())
      out.push({ invalidation: { kind: 'pattern', pattern }, stamp })
    if (this.tags.size > 0) out.push({ invalidation: { kind: 'tags', tags: [...this.tags.keys()] }, stamp })
    return out
  }

  /** A replayed `repair` reached L2: forget what it covered, unless it was registered again after `pending()`. */
  done(repair: PendingRepair): void {
    this.counters.replayed++
    this.forget(repair)
  }

  private forget({ invalidation, stamp }: PendingRepair): void {
    switch (invalidation.kind) {
      case 'key':
        for (const key of invalidation.keys) if ((this.keys.get(key) ?? 0) <= stamp) this.keys.delete(key)
        break
      case 'pattern':
        if ((this.patterns.get(invalidation.pattern)?.stamp ?? 0) <= stamp)
          this.patterns.delete(invalidation.pattern)
        break
      case 'tags':
        for (const tag of invalidation.tags) if ((this.tags.get(tag) ?? 0) <= stamp) this.tags.delete(tag)
        break
      case 'clear':
        if (this.clearStamp <= stamp) this.clearStamp = 0
        break
    }
  }

  private collapse(stamp: number): void {
    this.clearStamp = stamp
    this.keys.clear()
    this.patterns.clear()
    this.tags.clear()
  }
}
