import { CacheError, CacheErrorCode, type StoreEvent } from '@strata-cache/core'
import type { InvalidationOutcome, StoreInvalidation } from '@strata-cache/redis'
import type { Invalidation } from './invalidation.ts'
import type { L2Repairs } from './l2-repairs.ts'

/** How often pending repairs are tried again while L2 looks away, ms. */
const RETRY_MS = 250

/** What the replay needs of its store. */
export interface RepairReplayHost {
  readonly repairs: L2Repairs
  /** Applies a removal to L2 and says whether L2 confirmed it. */
  invalidate(invalidation: StoreInvalidation): Promise<InvalidationOutcome>
  /** False while L2's breaker is open: no point trying. */
  l2Available(): boolean
  /** Tells the other pods, once L2 holds the removal. */
  publish(invalidation: Invalidation): Promise<void>
  emit(event: StoreEvent): void
  readonly l2Name: string
}

/**
 * Applies pending repairs to L2 when it answers again (its breaker closes, or a retry finds it up),
 * in order, each followed by its bus notice: a pod that re-read the old value after the first notice drops it. Stops at
 * the first failure and tries again later.
 */
export class RepairReplay {
  private running: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(private readonly host: RepairReplayHost) {}

  /** A removal could not be applied: tries again soon. `collapsed` reports the journal's overflow once. */
  failed(collapsed: boolean): void {
    this.host.repairs.failed()
    if (collapsed) {
      const { repairs } = this.host
      this.host.emit({
        type: 'error',
        operation: 'repair',
        tier: this.host.l2Name,
        error: new CacheError(
          CacheErrorCode.STORE_UNAVAILABLE,
          `more removals pending for ${this.host.l2Name} than maxRepairs allows (${repairs.counters.collapsed} time(s)): they collapsed into one clear of the prefix, applied when it answers again`,
        ),
      })
    }
    this.schedule()
  }

  /** Tries now (L2 may be back: its breaker closed). Resolves when this pass ends. */
  kick(): Promise<void> {
    if (this.stopped || this.host.repairs.size === 0) return Promise.resolve()
    this.running ??= this.pass().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  /** Stops retrying (the store closes). */
  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
  }

  private schedule(): void {
    if (this.timer !== undefined || this.stopped) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.kick()
    }, RETRY_MS)
    this.timer.unref()
  }

  private async pass(): Promise<void> {
    const { repairs } = this.host
    if (!this.host.l2Available()) {
      this.schedule()
      return
    }
    for (const repair of repairs.pending()) {
      if (this.stopped) return
      const { applied } = await this.host.invalidate(repair.invalidation)
      if (!applied) {
        this.schedule()
        return
      }
      repairs.done(repair)
      await this.host.publish(repair.invalidation)
    }
    // Removals that failed while this pass ran.
    if (repairs.size > 0) this.schedule()
  }
}
