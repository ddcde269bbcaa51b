import type { FastifyBaseLogger } from 'fastify'

/** What the dashboard and `GET /api/warming` show of the warmer. */
export interface WarmingState {
  /** False when WARM_INTERVAL is 0: nothing runs, pausing still takes effect. */
  enabled: boolean
  paused: boolean
  intervalMs: number
  /** Racks warmed since start (computed here or found in the cache). */
  warmed: number
  lastRunAt: string | null
  /** The pod and time of the last pause or resume. */
  changedBy: string | null
  changedAt: string | null
}

/**
 * Keeps the racks' thermal analyses warm: every `intervalMs` it asks for each rack's analysis
 * (a miss computes it once across pods, under the cache's lock), so a user rarely waits for a cold
 * one. `pause` and `resume` come from the control channel, so they reach every pod at once.
 */
export class RackWarmer {
  private timer: NodeJS.Timeout | undefined
  private running = false
  private stopped = false
  private readonly current: WarmingState

  constructor(
    private readonly rackIds: () => number[],
    private readonly warm: (rackId: number) => Promise<unknown>,
    intervalMs: number,
    private readonly log: FastifyBaseLogger,
  ) {
    this.current = {
      enabled: intervalMs > 0,
      paused: false,
      intervalMs,
      warmed: 0,
      lastRunAt: null,
      changedBy: null,
      changedAt: null,
    }
    if (intervalMs > 0) {
      this.timer = setInterval(() => void this.run(), intervalMs)
      this.timer.unref()
    }
  }

  /** Stops warming (a run in progress stops after its current rack). */
  pause(by: string, at: string): void {
    Object.assign(this.current, { paused: true, changedBy: by, changedAt: at })
  }

  /** Warms again from the next interval on. */
  resume(by: string, at: string): void {
    Object.assign(this.current, { paused: false, changedBy: by, changedAt: at })
  }

  state(): WarmingState {
    return { ...this.current }
  }

  close(): void {
    this.stopped = true
    clearInterval(this.timer)
  }

  private async run(): Promise<void> {
    if (this.running || this.current.paused || this.stopped) return
    this.running = true
    try {
      for (const rackId of this.rackIds()) {
        if (this.current.paused || this.stopped) break
        try {
          await this.warm(rackId)
          this.current.warmed++
        } catch (error) {
          this.log.warn({ err: error, rackId }, 'warming a rack failed')
        }
      }
      this.current.lastRunAt = new Date().toISOString()
    } finally {
      this.running = false
    }
  }
}
