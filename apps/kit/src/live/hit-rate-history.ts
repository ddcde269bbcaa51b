import type { Cache } from '@strata-cache/core'

/** One interval of reads: when it ended, its hits and misses, and their ratio (null: no reads). */
export interface HitRateSample {
  /** End of the interval, epoch ms. */
  t: number
  hits: number
  misses: number
  /** hits / (hits + misses), 0 to 1; null when nothing was read. */
  hitRate: number | null
}

/**
 * Hits and misses of this pod's cache per interval, for the dashboard's chart: counted from the
 * cache's `hit` and `miss` events (no Redis round trip), the last `windowMs` kept.
 */
export class HitRateHistory {
  private readonly samples: HitRateSample[] = []
  private readonly maxSamples: number
  private hits = 0
  private misses = 0
  private readonly unsubscribe: (() => void)[]

  constructor(
    cache: Cache,
    private readonly intervalMs: number,
    windowMs: number,
  ) {
    this.maxSamples = Math.max(2, Math.ceil(windowMs / intervalMs))
    this.unsubscribe = [
      cache.on('hit', () => {
        this.hits++
      }),
      cache.on('miss', () => {
        this.misses++
      }),
    ]
  }

  /** Closes the current interval and returns its sample. */
  sample(now = Date.now()): HitRateSample {
    const reads = this.hits + this.misses
    const sample = {
      t: now,
      hits: this.hits,
      misses: this.misses,
      hitRate: reads === 0 ? null : this.hits / reads,
    }
    this.hits = 0
    this.misses = 0
    this.samples.push(sample)
    if (this.samples.length > this.maxSamples) this.samples.shift()
    return sample
  }

  /** The samples kept, oldest first. */
  list(): readonly HitRateSample[] {
    return this.samples
  }

  /** The sampling interval, ms. */
  get interval(): number {
    return this.intervalMs
  }

  /** Stops counting. */
  close(): void {
    for (const off of this.unsubscribe) off()
  }
}
