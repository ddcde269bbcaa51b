import { type CacheEntry, CacheOptionError, CacheSerializationError } from '@strata-cache/core'

/** Throws CacheSerializationError for `undefined`, which no tier can store (null can). */
export function refuseUndefined(label: string, key: string, value: unknown): void {
  if (value === undefined) {
    throw new CacheSerializationError(`${label}.set("${key}"): cannot cache undefined (cache null instead)`, {
      key,
    })
  }
}

/** Throws a CacheOptionError naming the field of a malformed entry: timing not epoch ms, staleUntil before expiresAt, tags not strings. */
export function checkEntry(label: string, key: string, entry: CacheEntry<unknown>): void {
  if (typeof entry !== 'object' || entry === null) {
    throw new CacheOptionError(`${label}.set("${key}"): entry must be an object, got ${String(entry)}`, {
      key,
      option: 'entry',
    })
  }
  for (const field of ['createdAt', 'expiresAt', 'staleUntil'] as const) {
    const at = entry[field]
    if (typeof at !== 'number' || Number.isNaN(at)) {
      throw new CacheOptionError(
        `${label}.set("${key}"): entry.${field} must be epoch ms, got ${String(at)}`,
        {
          key,
          option: `entry.${field}`,
        },
      )
    }
  }
  if (entry.staleUntil < entry.expiresAt) {
    throw new CacheOptionError(
      `${label}.set("${key}"): entry.staleUntil (${entry.staleUntil}) is before expiresAt (${entry.expiresAt})`,
      { key, option: 'entry.staleUntil' },
    )
  }
  if (
    entry.tags !== undefined &&
    (!Array.isArray(entry.tags) || entry.tags.some((t) => typeof t !== 'string'))
  ) {
    throw new CacheOptionError(`${label}.set("${key}"): entry.tags must be an array of strings`, {
      key,
      option: 'entry.tags',
    })
  }
}
