import type { CacheEntry } from '@strata-cache/core'

/** What the LRU holds per key: the entry handed to readers, plus bookkeeping they never see. */
export class Slot {
  constructor(
    /** Frozen record returned as is by peek/get; carries `tier`. */
    readonly entry: CacheEntry<unknown>,
    readonly expiresAt: number,
    readonly staleUntil: number,
    /** This store's clock when the entry was written here (not entry.createdAt). */
    readonly writtenAt: number,
    /** Bytes counted for maxBytes and stats. */
    readonly size: number,
    readonly tags: readonly string[] | undefined,
  ) {}
}

/**
 * The slot for `entry` holding `value` (already copied or taken over) of `size` bytes: a frozen
 * record carrying `tier`, with the tags frozen in a copy of their own.
 */
export function createSlot(
  entry: CacheEntry<unknown>,
  value: unknown,
  size: number,
  writtenAt: number,
  tier: string,
): Slot {
  const tags = entry.tags !== undefined && entry.tags.length > 0 ? Object.freeze([...entry.tags]) : undefined
  const record: CacheEntry<unknown> =
    tags === undefined
      ? {
          value,
          createdAt: entry.createdAt,
          expiresAt: entry.expiresAt,
          staleUntil: entry.staleUntil,
          tier,
        }
      : {
          value,
          createdAt: entry.createdAt,
          expiresAt: entry.expiresAt,
          staleUntil: entry.staleUntil,
          tags,
          tier,
        }
  return new Slot(Object.freeze(record), entry.expiresAt, entry.staleUntil, writtenAt, size, tags)
}
