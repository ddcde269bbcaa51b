import { type BreakerState, CacheError, CacheErrorCode } from '@strata-cache/core'
import type { StoreEvents } from './store-events.ts'

/**
 * How the fail-fast calls of an open breaker are reported: every call of an outage fails the same
 * way, so one `error` event per call (3,000 in a 3-second outage under load) says nothing the first
 * did not. The first of an outage is an event in full (with its key); the repeats are counted per
 * operation and reported on the breaker's next change of state (at least every probe interval while
 * open) as one event per operation carrying `count`. Every call still counts in the store's
 * `errors`, and a Cache adds `count` to its own.
 */
export class CircuitOpenReports {
  private readonly repeats = new Map<string, number>()
  /** The first fail-fast call of this outage was reported in full. */
  private reported = false
  private error: CacheError | undefined

  constructor(private readonly events: StoreEvents) {}

  /** One call refused because the breaker is open. */
  failFast(operation: string, key: string | undefined): void {
    if (this.events.size === 0) {
      this.events.errorCount++
      return
    }
    if (!this.reported) {
      this.reported = true
      this.events.report(operation, this.sharedError(), key)
      return
    }
    this.events.errorCount++
    this.repeats.set(operation, (this.repeats.get(operation) ?? 0) + 1)
  }

  /**
   * The breaker changed state: reports the repeats counted so far, before the breaker's own event;
   * once it closed, the next outage's first call is reported in full again.
   */
  stateChanged(state: BreakerState): void {
    if (this.repeats.size > 0) {
      const error = this.sharedError()
      for (const [operation, count] of this.repeats)
        this.events.emit({ type: 'error', operation, tier: this.events.tier, error, count })
      this.repeats.clear()
    }
    if (state === 'closed') this.reported = false
  }

  /** One error object for the whole outage, built only when someone listens. */
  private sharedError(): CacheError {
    this.error ??= new CacheError(
      CacheErrorCode.CIRCUIT_OPEN,
      `${this.events.tier}: circuit open, Redis is not called until a background probe succeeds`,
    )
    return this.error
  }
}
