import type { Prng } from './prng.ts'

/** The two cached variants of a metric's aggregate: all events, and those of the metric's one user. */
export type ReadVariant = 'all' | 'user'

/** One GET of an aggregate, with what the database held (acknowledged) when it was sent. */
export interface ReadRecord {
  pod: string
  metric: string
  variant: ReadVariant
  /** ms since the run started. */
  start: number
  end: number
  /** HTTP status; 0 when the request failed or timed out. */
  status: number
  /** `max` of the answer: the newest version the aggregate includes (0 for none). */
  version?: number
  /** `count` of the answer. */
  count?: number
  /** The newest version acknowledged before the request was sent. */
  expected: number
  /** How many writes of the metric were acknowledged before the request was sent. */
  expectedCount: number
  /** The `x-cache` header. */
  cache?: string
  error?: string
  /** Part of the final sweep (after the load, every key on every pod). */
  sweep?: boolean
}

/** One POST of an event carrying `version` (its value) for a metric. */
export interface WriteRecord {
  pod: string
  metric: string
  version: number
  start: number
  end: number
  status: number
  /** 202: the event is in the database and its invalidation went out. */
  acked: boolean
  error?: string
}

/** A pod as the load sees it. */
export interface LoadTarget {
  name: string
  url: string
}

interface MetricState {
  name: string
  user: string
  /** Last version handed to a write. */
  sent: number
  /** Highest version acknowledged, and how many were. */
  ackedMax: number
  ackedCount: number
}

const REQUEST_TIMEOUT_MS = 5_000

/**
 * A bounded, seeded mix of reads and writes over the pods' HTTP API. Writes POST one event whose
 * value is the metric's next version; reads GET `timeframe=all` aggregates, whose `max` is the newest
 * version they include and `count` how many events.
 */
export class LoadGenerator {
  readonly reads: ReadRecord[] = []
  readonly writes: WriteRecord[] = []
  /** Ticks that found `maxInFlight` requests pending and sent nothing. */
  skipped = 0
  /** Times this process's event loop did not run a 20 ms tick for 100 ms or more (a loaded machine). */
  readonly stalls: { at: number; ms: number }[] = []
  private lastTick = 0
  /** Told of every stale answer as it arrives (not in the final sweep), with the metric's user. */
  onStale: ((read: ReadRecord, user: string) => void) | undefined
  private readonly metrics: MetricState[]
  private inFlight = 0
  private readonly pending = new Set<Promise<void>>()
  private timer: NodeJS.Timeout | undefined
  private launched = 0
  private startedAt = 0
  /** Events are stamped an hour back, so every `timeframe=all` aggregate includes them at once. */
  private readonly eventTime = new Date(Date.now() - 3_600_000).toISOString()

  constructor(
    private readonly targets: readonly LoadTarget[],
    private readonly rng: Prng,
    private readonly options: { rate: number; writeShare: number; keys: number; maxInFlight: number },
    private readonly clock: () => number,
  ) {
    this.metrics = Array.from({ length: options.keys }, (_, i) => ({
      name: `soak-m${i}`,
      user: `soak-u${i}`,
      sent: 0,
      ackedMax: 0,
      ackedCount: 0,
    }))
  }

  /** The metric names, for the database checks. */
  get metricNames(): string[] {
    return this.metrics.map((m) => m.name)
  }

  /** Starts sending at `rate` requests per second (a tick every 20 ms). */
  start(): void {
    this.startedAt = this.clock()
    this.timer = setInterval(() => this.tick(), 20)
  }

  /** Stops sending and resolves once every request in flight has ended. */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.timer = undefined
    while (this.pending.size > 0) await Promise.allSettled([...this.pending])
  }

  /** After the load: reads every variant of every metric on every pod, expecting `expected(metric)`. */
  async sweep(expected: (metric: string) => { max: number; count: number }): Promise<void> {
    const jobs: Promise<void>[] = []
    for (const target of this.targets) {
      for (const metric of this.metrics) {
        const truth = expected(metric.name)
        for (const variant of ['all', 'user'] as const) {
          jobs.push(this.read(target, metric, variant, { ...truth, sweep: true }))
        }
      }
    }
    await Promise.all(jobs)
  }

  private tick(): void {
    const now = this.clock()
    if (this.lastTick > 0 && now - this.lastTick >= 100)
      this.stalls.push({ at: this.lastTick, ms: now - this.lastTick })
    this.lastTick = now
    const due = Math.floor(((this.clock() - this.startedAt) / 1_000) * this.options.rate) - this.launched
    for (let i = 0; i < due; i++) {
      this.launched++
      if (this.inFlight >= this.options.maxInFlight) {
        this.skipped++
        continue
      }
      const target = this.rng.pick(this.targets)
      const metric = this.rng.pick(this.metrics)
      if (this.rng.chance(this.options.writeShare)) this.track(this.write(target, metric))
      else this.track(this.read(target, metric, this.rng.chance(0.5) ? 'all' : 'user'))
    }
  }

  private track(job: Promise<void>): void {
    this.inFlight++
    this.pending.add(job)
    void job.finally(() => {
      this.inFlight--
      this.pending.delete(job)
    })
  }

  private async read(
    target: LoadTarget,
    metric: MetricState,
    variant: ReadVariant,
    sweep?: { max: number; count: number; sweep: true },
  ): Promise<void> {
    const query = variant === 'all' ? 'timeframe=all' : `timeframe=all&user=${metric.user}`
    const record: ReadRecord = {
      pod: target.name,
      metric: metric.name,
      variant,
      start: this.clock(),
      end: 0,
      status: 0,
      expected: sweep?.max ?? metric.ackedMax,
      expectedCount: sweep?.count ?? metric.ackedCount,
      ...(sweep === undefined ? {} : { sweep: true }),
    }
    try {
      const response = await fetch(`${target.url}/api/v1/analytics/${metric.name}?${query}`, {
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      })
      record.status = response.status
      record.cache = response.headers.get('x-cache') ?? undefined
      const body = (await response.json()) as { max?: number | null; count?: number; message?: string }
      if (response.ok) {
        record.version = body.max ?? 0
        record.count = body.count ?? 0
      } else {
        record.error = body.message ?? `HTTP ${response.status}`
      }
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error)
    }
    record.end = this.clock()
    this.reads.push(record)
    const stale =
      record.version !== undefined &&
      (record.version < record.expected || (record.count ?? 0) < record.expectedCount)
    if (stale && sweep === undefined) this.onStale?.(record, metric.user)
  }

  private async write(target: LoadTarget, metric: MetricState): Promise<void> {
    const version = ++metric.sent
    const record: WriteRecord = {
      pod: target.name,
      metric: metric.name,
      version,
      start: this.clock(),
      end: 0,
      status: 0,
      acked: false,
    }
    const event = {
      workspace: 'soak',
      user: metric.user,
      agent: 'soak',
      metric: metric.name,
      value: version,
      time: this.eventTime,
    }
    try {
      const response = await fetch(`${target.url}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      })
      record.status = response.status
      const text = await response.text()
      if (response.status === 202) {
        record.acked = true
        metric.ackedMax = Math.max(metric.ackedMax, version)
        metric.ackedCount++
      } else {
        record.error = text.slice(0, 200)
      }
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error)
    }
    record.end = this.clock()
    this.writes.push(record)
  }
}
