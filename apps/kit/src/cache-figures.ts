import type { Cache, CacheStats, HealthReport } from '@strata-cache/core'

interface Memo<T> {
  value: Promise<T>
  at: number
}

/**
 * What the health and stats endpoints report, without letting anonymous callers drive Redis.
 *
 * The tiers' figures come from Redis (PING for health, INFO for stats): each is read at most once
 * per `maxAgeMs` whoever asks, concurrent callers sharing one read, and read again at once after
 * the cache reports a store error, a breaker change or a bus change, so an outage shows without
 * delay. The pod's own counters (hits, stale hits, misses, errors) are always current: they are
 * counted from the cache's events, which mirror its counters one for one.
 */
export class CacheFigures {
  private healthMemo: Memo<HealthReport> | undefined
  private statsMemo: Memo<CacheStats> | undefined
  private hits = 0
  private staleHits = 0
  private misses = 0
  private errors = 0
  private readonly unsubscribe: (() => void)[]

  /**
   * @param maxAgeMs how long a read of Redis's figures is reused. @default 1000
   * @param now a clock in milliseconds (tests inject one). @default performance.now
   */
  constructor(
    private readonly cache: Cache,
    private readonly maxAgeMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.unsubscribe = [
      cache.on('hit', (event) => {
        this.hits++
        if (event.stale) this.staleHits++
      }),
      cache.on('miss', () => {
        this.misses++
      }),
      // An event may stand for many failures (an open breaker's refused calls, as `count`).
      cache.on('error', (event) => {
        this.errors += event.count ?? 1
        this.forget()
      }),
      cache.on('loader', (event) => {
        if (!event.ok) this.errors++
      }),
      cache.on('breaker', () => this.forget()),
      cache.on('bus', () => this.forget()),
    ]
  }

  /** `cache.health()`, at most once per `maxAgeMs`. */
  health(): Promise<HealthReport> {
    this.healthMemo = this.fresh(this.healthMemo, () => this.cache.health())
    return this.healthMemo.value
  }

  /** `cache.stats()` with the tiers' figures at most `maxAgeMs` old and the counters current. */
  async stats(): Promise<CacheStats> {
    this.statsMemo = this.fresh(this.statsMemo, () => this.cache.stats())
    const stats = await this.statsMemo.value
    const reads = this.hits + this.misses
    return {
      ...stats,
      hits: this.hits,
      staleHits: this.staleHits,
      misses: this.misses,
      hitRate: reads === 0 ? 0 : this.hits / reads,
      errors: this.errors,
    }
  }

  /** Stops counting (the cache is closing). */
  close(): void {
    for (const off of this.unsubscribe) off()
  }

  private forget(): void {
    this.healthMemo = undefined
    this.statsMemo = undefined
  }

  private fresh<T>(memo: Memo<T> | undefined, read: () => Promise<T>): Memo<T> {
    const now = this.now()
    if (memo !== undefined && now - memo.at < this.maxAgeMs) return memo
    const next: Memo<T> = { value: read(), at: now }
    // A failed read is not reused: the next caller asks again.
    next.value.catch(() => {
      if (this.healthMemo === (next as unknown)) this.healthMemo = undefined
      if (this.statsMemo === (next as unknown)) this.statsMemo = undefined
    })
    return next
  }
}
