import type { CacheEventMap } from '@strata-cache/core'

/** The part of a pino/Fastify logger the sampler writes to. */
export interface WarnLogger {
  warn(fields: object, message: string): void
}

interface Repeats {
  fields: { operation: string; tier: string; code: string }
  count: number
}

/**
 * Logs the cache's `error` events without flooding: the first error of a kind (operation, tier,
 * error code) is logged in full; its repeats within `intervalMs` are counted and logged as one
 * `cache error repeated` line with the count when the interval ends. A state change (breaker or
 * bus) is logged by the caller in full; {@link stateChanged} ends the current interval first, so
 * the first error after a change is logged in full again.
 */
export class ErrorLogSampler {
  private readonly seen = new Map<string, Repeats>()
  private timer: NodeJS.Timeout | undefined

  /** @param intervalMs how long repeats are counted before their line is written. @default 10000 */
  constructor(
    private readonly log: WarnLogger,
    private readonly intervalMs = 10_000,
  ) {}

  /**
   * One `error` event of the cache. An event with a `count` already stands for that many repeats
   * (an open breaker's refused calls, whose first the store reported in full): it only adds to the count.
   */
  error(event: CacheEventMap['error']): void {
    const code = codeOf(event.error)
    const id = `${event.operation}|${event.tier}|${code}`
    const repeats = this.seen.get(id)
    if (repeats !== undefined || event.count !== undefined) {
      const entry = repeats ?? { fields: { operation: event.operation, tier: event.tier, code }, count: 0 }
      entry.count += event.count ?? 1
      this.seen.set(id, entry)
      this.startInterval()
      return
    }
    this.seen.set(id, { fields: { operation: event.operation, tier: event.tier, code }, count: 0 })
    this.log.warn(
      { operation: event.operation, tier: event.tier, err: event.error },
      'cache error absorbed (repeats within the interval are counted)',
    )
    this.startInterval()
  }

  /** A breaker or bus state changed: write the counts so far and start afresh. */
  stateChanged(): void {
    this.flush()
  }

  private startInterval(): void {
    if (this.timer !== undefined) return
    this.timer = setTimeout(() => this.flush(), this.intervalMs)
    this.timer.unref()
  }

  /** Writes the counts of the interval and forgets the kinds seen. */
  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    for (const { fields, count } of this.seen.values()) {
      if (count > 0)
        this.log.warn({ ...fields, repeats: count, intervalMs: this.intervalMs }, 'cache error repeated')
    }
    this.seen.clear()
  }
}

function codeOf(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const { code, name } = error as { code?: unknown; name?: unknown }
    if (typeof code === 'string' || typeof code === 'number') return String(code)
    if (typeof name === 'string') return name
  }
  return typeof error
}
