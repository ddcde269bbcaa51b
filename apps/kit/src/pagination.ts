/** One page of a list ordered by a cursor: the items, and the cursor to ask for the next page. */
export interface Page<T, C> {
  items: T[]
  /** Pass it as `after` for the next page; null on the last one. */
  next: C | null
}

/**
 * The page of `items` (ordered by `cursorOf`, ascending) that follows `after`, at most `limit`
 * long. A cursor keeps its place when items are added or removed before it, unlike an offset.
 */
export function pageAfter<T, C extends string | number>(
  items: readonly T[],
  cursorOf: (item: T) => C,
  after: C | undefined,
  limit: number,
): Page<T, C> {
  const start = after === undefined ? 0 : items.findIndex((item) => cursorOf(item) > after)
  const from = start === -1 ? items.length : start
  const page = items.slice(from, from + limit)
  const last = page.at(-1)
  return { items: page, next: from + limit < items.length && last !== undefined ? cursorOf(last) : null }
}

/** The schema of a `limit` query parameter: an integer from 1 to `max`, `fallback` when absent. */
export function limitParam(fallback: number, max: number) {
  return {
    type: 'integer',
    minimum: 1,
    maximum: max,
    default: fallback,
    description: `an integer from 1 to ${max}`,
  } as const
}
