import type { CacheEntry } from '@strata-cache/core'

/**
 * What the LRU holds per key: the entry handed to readers, plus bookkeeping they never see. A slot
 * filled from text (MemoryStore.fillText) holds the value's serialized text instead, until its
 * first read builds the entry (see {@link textSlot}).
 */
export class Slot {
  constructor(
    /** Frozen record returned as is by peek/get; carries `tier`. Undefined until a text slot is first read. */
    public entry: CacheEntry<unknown> | undefined,
    readonly expiresAt: number,
    readonly staleUntil: number,
    /** This store's clock when the entry was written here (not entry.createdAt). */
    readonly writtenAt: number,
    /** Bytes counted for maxBytes and stats. */
    readonly size: number,
    readonly tags: readonly string[] | undefined,
    /** The value as its serializer wrote it, while `entry` is not built yet. */
    public text: string | undefined = undefined,
    /** `entry.createdAt`, kept for a text slot's record. */
    readonly createdAt = 0,
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
  const tags = frozenTags(entry.tags)
  return new Slot(
    frozenRecord(value, entry.createdAt, entry.expiresAt, entry.staleUntil, tags, tier),
    entry.expiresAt,
    entry.staleUntil,
    writtenAt,
    size,
    tags,
  )
}

/** A slot for `entry` whose value is `text`, of `size` bytes, not parsed yet: see {@link buildEntry}. */
export function textSlot(
  entry: Omit<CacheEntry<unknown>, 'value'>,
  text: string,
  size: number,
  writtenAt: number,
): Slot {
  const tags = frozenTags(entry.tags)
  return new Slot(undefined, entry.expiresAt, entry.staleUntil, writtenAt, size, tags, text, entry.createdAt)
}

/** Builds a text slot's record around `value` (parsed from its text and frozen by the caller). */
export function buildEntry(slot: Slot, value: unknown, tier: string): CacheEntry<unknown> {
  const entry = frozenRecord(value, slot.createdAt, slot.expiresAt, slot.staleUntil, slot.tags, tier)
  slot.entry = entry
  slot.text = undefined
  return entry
}

function frozenTags(tags: readonly string[] | undefined): readonly string[] | undefined {
  return tags !== undefined && tags.length > 0 ? Object.freeze([...tags]) : undefined
}

function frozenRecord(
  value: unknown,
  createdAt: number,
  expiresAt: number,
  staleUntil: number,
  tags: readonly string[] | undefined,
  tier: string,
): CacheEntry<unknown> {
  const record: CacheEntry<unknown> =
    tags === undefined
      ? { value, createdAt, expiresAt, staleUntil, tier }
      : { value, createdAt, expiresAt, staleUntil, tags, tier }
  return Object.freeze(record)
}
