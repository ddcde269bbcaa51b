import type { BreakerState } from '@strata-cache/core'

/** When the breaker opens, and how it looks for recovery. */
export interface CircuitBreakerOptions {
  /** Open after this many failures in a row. @default 5 */
  failureThreshold?: number
  /** Also open when this share of calls in the window failed (0..1). @default 0.5 */
  failureRatio?: number
  /** The ratio rule needs at least this many calls in the window. @default 20 */
  minimumCalls?: number
  /** Length of the window the ratio is computed over, ms. @default 10000 */
  windowMs?: number
  /** While open, a background probe runs this often, ms. @default 500 */
  probeIntervalMs?: number
}

export interface CircuitBreakerDeps {
  /** A cheap round trip (PING) that resolves when the backend answers; rejects otherwise. */
  probe: () => Promise<unknown>
  /** Told about every state change. */
  onStateChange: (state: BreakerState, previous: BreakerState) => void
  /** Clock for the ratio window, epoch ms. @default Date.now */
  now?: () => number
}

/** Resolved defaults, so callers can show what a breaker runs with. */
export const DEFAULT_BREAKER = {
  failureThreshold: 5,
  failureRatio: 0.5,
  minimumCalls: 20,
  windowMs: 10_000,
  probeIntervalMs: 500,
} as const

/**
 * Closed → open → half-open → closed, with a background probe.
 *
 * Why our own rather than cockatiel's: cockatiel's half-open state lets the next *caller's* call
 * through after a cool-down, so recovery waits for traffic and a caller pays for the probe. Ours
 * probes in the background every `probeIntervalMs` while open (half-open lasts exactly one probe,
 * no caller command reaches Redis meanwhile) and closes by itself when Redis answers, even with no
 * traffic at all. The whole state machine is ~100 lines and needs no dependency.
 */
export class CircuitBreaker {
  private current: BreakerState = 'closed'
  private consecutiveFailures = 0
  private totalFailures = 0
  // Ratio window as two counters that reset when the window rolls: cheap and good enough.
  private windowStart = 0
  private windowCalls = 0
  private windowFailures = 0
  private probeTimer: ReturnType<typeof setTimeout> | undefined
  private stopped = false
  private readonly options: Required<CircuitBreakerOptions>
  private readonly now: () => number

  constructor(
    options: CircuitBreakerOptions,
    private readonly deps: CircuitBreakerDeps,
  ) {
    this.options = { ...DEFAULT_BREAKER, ...stripUndefined(options) }
    this.now = deps.now ?? Date.now
  }

  get state(): BreakerState {
    return this.current
  }

  /** Failures in a row right now (0 after a success). */
  get consecutive(): number {
    return this.consecutiveFailures
  }

  /** Every failure recorded since creation. */
  get failures(): number {
    return this.totalFailures
  }

  /** Whether a caller's command may go to the backend: only while closed. */
  allows(): boolean {
    return this.current === 'closed'
  }

  recordSuccess(): void {
    this.consecutiveFailures = 0
    this.countCall(false)
  }

  recordFailure(): void {
    this.totalFailures++
    this.consecutiveFailures++
    this.countCall(true)
    if (this.current !== 'closed') return
    const o = this.options
    const ratioTripped =
      this.windowCalls >= o.minimumCalls && this.windowFailures / this.windowCalls >= o.failureRatio
    if (this.consecutiveFailures >= o.failureThreshold || ratioTripped) this.open()
  }

  /** Opens now (e.g. the connection reported an error); the probe then takes over. */
  open(): void {
    if (this.stopped || this.current === 'open') return
    this.transition('open')
    this.scheduleProbe()
  }

  /** Stops probing for good (store closed). */
  stop(): void {
    this.stopped = true
    if (this.probeTimer !== undefined) clearTimeout(this.probeTimer)
    this.probeTimer = undefined
  }

  private countCall(failed: boolean): void {
    const now = this.now()
    if (now - this.windowStart >= this.options.windowMs) {
      this.windowStart = now
      this.windowCalls = 0
      this.windowFailures = 0
    }
    this.windowCalls++
    if (failed) this.windowFailures++
  }

  private scheduleProbe(): void {
    if (this.stopped || this.probeTimer !== undefined) return
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined
      void this.runProbe()
    }, this.options.probeIntervalMs)
    // A breaker waiting for Redis must not keep a process alive.
    this.probeTimer.unref?.()
  }

  private async runProbe(): Promise<void> {
    if (this.stopped || this.current !== 'open') return
    this.transition('half-open')
    let ok = false
    try {
      await this.deps.probe()
      ok = true
    } catch {
      ok = false
    }
    if (this.stopped) return
    if (ok) {
      this.consecutiveFailures = 0
      this.windowStart = this.now()
      this.windowCalls = 0
      this.windowFailures = 0
      this.transition('closed')
    } else {
      this.transition('open')
      this.scheduleProbe()
    }
  }

  private transition(state: BreakerState): void {
    const previous = this.current
    if (previous === state) return
    this.current = state
    try {
      this.deps.onStateChange(state, previous)
    } catch {
      // A listener's failure must not wedge the breaker.
    }
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [k, v] of Object.entries(value)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  return out
}
