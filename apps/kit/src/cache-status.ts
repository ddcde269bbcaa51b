import { AsyncLocalStorage } from 'node:async_hooks'
import type { Cache } from '@strata-cache/core'

/** What the `x-cache` header says about a cached response. */
export const CacheStatus = { HIT: 'hit', MISS: 'miss', STALE: 'stale' } as const
export type CacheStatus = (typeof CacheStatus)[keyof typeof CacheStatus]

interface Observation {
  key: string
  status: CacheStatus | undefined
}

/**
 * Tells, per request, whether a cached read was a hit, a miss or served stale. The cache's `hit`
 * and `miss` events fire inside the async context of the call that caused them (also from the
 * soft-timeout timer that serves stale), so an AsyncLocalStorage scope per call sees only its own.
 */
export class CacheStatusTracker {
  private readonly scope = new AsyncLocalStorage<Observation>()
  private readonly unsubscribe: (() => void)[]

  constructor(cache: Cache) {
    this.unsubscribe = [
      cache.on('hit', (event) => {
        const seen = this.scope.getStore()
        if (seen?.key === event.key) seen.status = event.stale ? CacheStatus.STALE : CacheStatus.HIT
      }),
      cache.on('miss', (event) => {
        const seen = this.scope.getStore()
        if (seen?.key === event.key && seen.status === undefined) seen.status = CacheStatus.MISS
      }),
    ]
  }

  /**
   * Runs one cached read of `key` and reports how it was answered. No event at all means an
   * expired entry was recomputed in time: a miss.
   */
  async observe<T>(key: string, read: () => Promise<T>): Promise<{ value: T; status: CacheStatus }> {
    const seen: Observation = { key, status: undefined }
    const value = await this.scope.run(seen, read)
    return { value, status: seen.status ?? CacheStatus.MISS }
  }

  close(): void {
    for (const off of this.unsubscribe) off()
  }
}
