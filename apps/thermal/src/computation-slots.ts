import { serviceUnavailable } from '@strata-cache/app-kit'

/** How long a client told "busy" should wait, seconds: about one analysis, a fraction of an optimization. */
export const BUSY_RETRY_AFTER_SECONDS = 2

/**
 * The cold computations one pod runs at once. Past `size`, a request that would start another is
 * answered 503 `E_BUSY` with `Retry-After` instead of queueing behind the others (each would take
 * longer, and a flood of distinct inputs would pile up without bound). Cache hits, and callers
 * waiting for another pod's computation, take no slot.
 */
export class ComputationSlots {
  private used = 0

  constructor(readonly size: number) {}

  /** Computations running now. */
  get inUse(): number {
    return this.used
  }

  /** Runs `compute` in a slot; throws the 503 when none is free. */
  async run<T>(compute: () => Promise<T>): Promise<T> {
    if (this.used >= this.size) {
      throw serviceUnavailable(
        `this pod is already running ${this.size} cold computation${this.size === 1 ? '' : 's'} (MAX_CONCURRENT_COMPUTATIONS); retry in ${BUSY_RETRY_AFTER_SECONDS} s`,
        BUSY_RETRY_AFTER_SECONDS,
      )
    }
    this.used++
    try {
      return await compute()
    } finally {
      this.used--
    }
  }
}
