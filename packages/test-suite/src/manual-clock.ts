/** A clock the suite moves by hand, so expiry is tested without sleeping. */
export interface ManualClock {
  /** The current instant in epoch ms; pass this function to the store as its `now`. */
  readonly now: () => number
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void
  /** Sets the clock to an instant (epoch ms). */
  set(epochMs: number): void
}

/** A manual clock starting at `start` (epoch ms). */
export function createManualClock(start: number): ManualClock {
  let current = start
  return {
    now: () => current,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock.advance: ms must be >= 0, got ${ms}`)
      current += ms
    },
    set(epochMs) {
      current = epochMs
    },
  }
}
