/**
 * This process's estimate of Redis's own clock (`TIME`), so that fenced writes compare times taken
 * from one clock whatever the pods' clocks say. `offsetMs` is Redis minus local; `uncertaintyMs`
 * bounds the estimate's error (half the round trip of the best sample, plus drift since).
 */
export class RedisClock {
  private offsetMs = 0
  private sampleUncertaintyMs = Number.POSITIVE_INFINITY
  private sampledAt = 0
  /** The latest Redis time (µs) read in any reply this process has received. */
  private seenUs = 0

  /** Until the first sample, estimates are this uncertain (ms): wide enough to stay safe. */
  static readonly UNSYNCED_UNCERTAINTY_MS = 1000
  /** Assumed worst drift between two clocks, per ms elapsed since the sample (100 ppm). */
  static readonly DRIFT = 1e-4

  constructor(private readonly local: () => number = Date.now) {}

  /** Redis's time now, ms since the epoch, as estimated here. */
  now(): number {
    return this.local() + this.offsetMs
  }

  /** How far `now()` may be from Redis's real clock, ms. */
  uncertainty(): number {
    return this.uncertaintyAt(this.local())
  }

  /** The latest Redis's clock may read (ms) when the local clock reads `localMs`: the estimate plus its error. */
  latestAt(localMs: number): number {
    return localMs + this.offsetMs + this.uncertaintyAt(localMs)
  }

  /**
   * A lower bound (µs of Redis's clock) of "now" for a load about to start: the estimate minus its
   * error, and never below the latest Redis time already seen in a reply — a reply received before
   * the load started was written before it, so this pod's own changes never count as after its loads.
   */
  loadStart(): number {
    return Math.max(Math.floor((this.now() - this.uncertainty()) * 1000), this.seenUs + 1)
  }

  /** Notes a Redis time (µs) read in a reply (a write's or a fence's). */
  seen(redisUs: number): void {
    if (redisUs > this.seenUs) this.seenUs = redisUs
  }

  /** Notes a Redis time (µs) a reply carried, read between local readings `sentAt` and `receivedAt` (ms). */
  sample(redisUs: number, sentAt: number, receivedAt: number): void {
    this.seen(redisUs)
    this.recordMs(redisUs / 1000, sentAt, receivedAt)
  }

  /** True once a sample was taken. */
  get synced(): boolean {
    return Number.isFinite(this.sampleUncertaintyMs)
  }

  /**
   * Records one `TIME` reply (`[seconds, microseconds]`) taken between local readings `sentAt` and
   * `receivedAt`. A sample is kept when it is tighter than what the current estimate has become.
   */
  record(reply: readonly (string | number)[], sentAt: number, receivedAt: number): void {
    const seconds = Number(reply[0])
    const micros = Number(reply[1])
    if (!Number.isFinite(seconds) || !Number.isFinite(micros)) return
    this.seen(seconds * 1_000_000 + micros)
    this.recordMs(seconds * 1000 + micros / 1000, sentAt, receivedAt)
  }

  /** Records a Redis time in ms (a script's reply), read between local readings `sentAt` and `receivedAt`. */
  recordMs(redisMs: number, sentAt: number, receivedAt: number): void {
    if (!Number.isFinite(redisMs) || receivedAt < sentAt) return
    const half = (receivedAt - sentAt) / 2
    if (this.synced && half > this.uncertaintyAt(receivedAt)) return
    this.offsetMs = redisMs - (sentAt + half)
    this.sampleUncertaintyMs = half + 1 // +1: TIME and Date.now() both round
    this.sampledAt = receivedAt
  }

  private uncertaintyAt(localMs: number): number {
    if (!Number.isFinite(this.sampleUncertaintyMs)) return RedisClock.UNSYNCED_UNCERTAINTY_MS
    return this.sampleUncertaintyMs + (localMs - this.sampledAt) * RedisClock.DRIFT
  }
}
