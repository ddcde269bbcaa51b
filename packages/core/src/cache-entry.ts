/** One cached value with its timing. Every store holds and returns this shape. */
export interface CacheEntry<T = unknown> {
  value: T
  /** When the value was produced, epoch ms. */
  createdAt: number
  /** Fresh until this instant, epoch ms. */
  expiresAt: number
  /** May be served stale (grace) until this instant, epoch ms; always >= expiresAt. */
  staleUntil: number
  /** Tags `invalidateTags` removes the entry by. */
  tags?: readonly string[]
  /**
   * Name of the tier that produced this entry on a read (set by stores, never stored by callers).
   * Lets the Cache report which tier a hit came from without extra work on the hot path.
   */
  readonly tier?: string
}

/** Fresh at `now`: before expiresAt. */
export function isFresh(entry: CacheEntry, now: number): boolean {
  return now < entry.expiresAt
}

/** Still usable at `now`, fresh or within grace: before staleUntil. */
export function isServable(entry: CacheEntry, now: number): boolean {
  return now < entry.staleUntil
}

/** Builds an entry from a TTL and a grace period, both in ms. */
export function createEntry<T>(
  value: T,
  ttlMs: number,
  graceMs: number,
  now: number,
  tags?: readonly string[],
): CacheEntry<T> {
  const expiresAt = now + ttlMs
  const entry: CacheEntry<T> = { value, createdAt: now, expiresAt, staleUntil: expiresAt + graceMs }
  if (tags !== undefined && tags.length > 0) entry.tags = tags
  return entry
}
