import type { Cache } from '@strata-cache/core'
import type { EventStream } from './event-stream.ts'

/** One line of the dashboard's feed: what happened, when, and its details. */
export interface FeedItem {
  /** `invalidation`, `event` (an application message), `control`, `gap`, `dropped`, `bus` or `breaker`. */
  kind: string
  /** ISO 8601, on this pod's clock. */
  at: string
  [detail: string]: unknown
}

/**
 * The latest invalidations and events this pod saw, from any pod: the last `size` kept for a page
 * that opens, each also sent to the connected browsers as a `feed` event.
 */
export class LiveFeed {
  private readonly items: FeedItem[] = []
  private readonly unsubscribe: (() => void)[]

  constructor(
    cache: Cache,
    private readonly stream: EventStream,
    private readonly size = 50,
  ) {
    this.unsubscribe = [
      // Local ones are this pod's calls; `bus` ones came from another pod's write.
      cache.on('invalidate', (event) => this.add({ ...event, kind: 'invalidation', scope: event.kind })),
      cache.on('channel', (event) => this.add({ ...event, kind: event.state })),
      cache.on('bus', (event) => this.add({ ...event, kind: 'bus' })),
      cache.on('breaker', (event) => this.add({ ...event, kind: 'breaker' })),
    ]
  }

  /** Records an item and streams it. */
  add(item: Omit<FeedItem, 'at'> & { at?: string }): void {
    const full = { ...item, at: item.at ?? new Date().toISOString() } as FeedItem
    this.items.push(full)
    if (this.items.length > this.size) this.items.shift()
    this.stream.send('feed', full)
  }

  /** The items kept, oldest first. */
  list(): readonly FeedItem[] {
    return this.items
  }

  close(): void {
    for (const off of this.unsubscribe) off()
  }
}
