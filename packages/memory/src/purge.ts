import type { LRUCache } from 'lru-cache'
import type { Slot } from './slot.ts'

// Sweeps over what the LRU holds: bulk removals and snapshots, none of them on the read path.

/** Removes `keys` (those present); returns how many were still servable at `now`. */
export function removeKeys(lru: LRUCache<string, Slot>, keys: Iterable<string>, now: number): number {
  let removed = 0
  for (const key of keys) {
    const slot = lru.peek(key)
    if (slot === undefined) continue
    if (now < slot.staleUntil) removed++
    lru.delete(key)
  }
  return removed
}

/** Keys whose slot `matches`, collected first so that removing them cannot disturb the walk. */
export function keysWhere(lru: LRUCache<string, Slot>, matches: (slot: Slot) => boolean): string[] {
  const found: string[] = []
  lru.forEach((slot, key) => {
    if (matches(slot)) found.push(key)
  })
  return found
}

/** Removes every entry at or past staleUntil at `now`; returns how many. */
export function purgeStale(lru: LRUCache<string, Slot>, now: number): number {
  const found = keysWhere(lru, (slot) => now >= slot.staleUntil)
  for (const key of found) lru.delete(key)
  return found.length
}
