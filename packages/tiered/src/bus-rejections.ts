import type { SignatureRefusal } from './bus-signature.ts'

/** What one report says: how many messages were refused since the last one, by reason. */
export interface RejectionReport {
  count: number
  unsigned: number
  wrongSignature: number
  /** Milliseconds the report covers. */
  windowMs: number
}

/**
 * Reports refused (unsigned or wrongly signed) bus messages at most once per interval, however
 * many arrive: a flood of forged messages costs one event per interval, not one per message. The
 * first refusal after a quiet interval is reported at once; those that follow within the interval
 * are summed into one report at its end.
 */
export class BusRejections {
  private unsigned = 0
  private wrongSignature = 0
  private windowStart = 0
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly intervalMs: number,
    private readonly report: (report: RejectionReport) => void,
  ) {}

  /** Counts one refused message; reports now when the last interval was quiet. */
  reject(reason: SignatureRefusal): void {
    if (reason === 'unsigned') this.unsigned++
    else this.wrongSignature++
    if (this.timer === undefined) this.flush()
  }

  /** Stops the interval; what was counted since the last report is not reported. */
  close(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private flush(): void {
    const count = this.unsigned + this.wrongSignature
    if (count === 0) {
      this.timer = undefined
      return
    }
    const now = performance.now()
    const report: RejectionReport = {
      count,
      unsigned: this.unsigned,
      wrongSignature: this.wrongSignature,
      windowMs: this.timer === undefined ? 0 : Math.round(now - this.windowStart),
    }
    this.unsigned = 0
    this.wrongSignature = 0
    this.windowStart = now
    this.timer = setTimeout(() => this.flush(), this.intervalMs)
    this.timer.unref()
    this.report(report)
  }
}
