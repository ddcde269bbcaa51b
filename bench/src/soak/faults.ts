import { sleep } from '@strata-cache/test-suite/testing'
import type { SoakCluster } from './cluster.ts'
import type { Prng } from './prng.ts'

/** What the driver does to the system. */
export const FAULT_KINDS = ['redis-pause', 'redis-kill', 'proxy-reset', 'proxy-hold', 'pubsub-kill'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/** What each fault does, for the report. */
export const FAULT_MEANING: Record<FaultKind, string> = {
  'redis-pause': 'SIGSTOP Redis for the drawn time, then SIGCONT (every pod)',
  'redis-kill': 'SIGKILL Redis, restart it empty on the same port after the drawn time (every pod)',
  'proxy-reset': "reset pod A's connections and refuse new ones for the drawn time (pod A)",
  'proxy-hold': "hold pod A's bytes both ways for the drawn time, then deliver them in order (pod A)",
  'pubsub-kill': "CLIENT KILL TYPE pubsub: every pod's bus subscriber connection drops (every pod)",
}

/** One fault and the window in which reads are counted as "during a fault". All times: ms since the run started. */
export interface FaultWindow {
  /** Injected faults are numbered 1, 2, …; detected ones D1, D2, … in the order they opened. */
  index: number | string
  /** The injected fault, or `detected`: a fault nobody injected that a pod or the proxy reported. */
  kind: FaultKind | 'detected'
  /** Detected windows: what opened it (a pod's gauges, or a stall of the fault proxy). */
  cause?: string
  /** The drawn length (0 for pubsub-kill and detected windows). */
  plannedMs: number
  start: number
  /** When the driver ended the fault (SIGCONT sent, Redis restarted, proxy healed, kill sent); detected: when first seen. */
  actionEnd: number
  /** When Redis answered again and every pod's bus subscriber was back, as Redis sees it. */
  redisBack: number
  /** When, besides, every pod said its L2 and bus are back and no L2 repair is pending (bounded wait). */
  recovered: number
  /** `recovered` plus the settle margin (degradedL1Ttl): reads ending before `start` or starting after this are steady state. */
  end: number
  /** False when Redis or a pod was not back within the recovery limit (20 s). */
  settled: boolean
  /** Anything unusual: connections killed, what was not back. */
  note?: string
}

/** How long the driver waits for Redis and the pods to be back before it notes that they are not. */
const RECOVERY_LIMIT_MS = 20_000

/**
 * Draws faults with its own seeded generator, separated by quiet periods, until `stopBy`; records
 * each window. Only one fault at a time; `abort()` ends the current one early (heals, resumes).
 */
export class FaultDriver {
  readonly windows: FaultWindow[] = []
  private aborted = false
  private paused = false
  private injecting = false
  private wake: (() => void) | undefined

  constructor(
    private readonly cluster: SoakCluster,
    private readonly rng: Prng,
    private readonly options: {
      quietMs: readonly [number, number]
      faultMs: readonly [number, number]
      settleMs: number
      subscribers: number
    },
    private readonly clock: () => number,
    private readonly log: (line: string) => void,
  ) {}

  /** Runs faults until no new one fits before `stopBy` (ms since start), or until aborted. */
  async run(stopBy: number): Promise<void> {
    const longest = this.options.faultMs[1] + this.options.settleMs + 2_000
    while (!this.aborted) {
      await this.nap(this.rng.int(...this.options.quietMs))
      if (this.aborted || this.clock() + longest > stopBy) return
      this.injecting = true
      try {
        await this.inject(this.rng.pick(FAULT_KINDS), this.rng.int(...this.options.faultMs))
      } finally {
        this.injecting = false
      }
    }
  }

  /** True from the start of a fault to the end of its window (settle margin included). */
  get active(): boolean {
    return this.injecting
  }

  /** Ends the current fault and stops drawing new ones. */
  abort(): void {
    this.aborted = true
    this.wake?.()
    void this.cluster.proxy.heal()
    if (this.paused) {
      this.paused = false
      try {
        this.cluster.redis.resume()
      } catch {
        // Not running.
      }
    }
  }

  private async nap(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    this.wake = undefined
  }

  private async inject(kind: FaultKind, drawnMs: number): Promise<void> {
    const { redis, proxy } = this.cluster
    const plannedMs = kind === 'pubsub-kill' ? 0 : drawnMs
    const start = this.clock()
    let note: string | undefined
    switch (kind) {
      case 'redis-pause':
        redis.pause()
        this.paused = true
        await this.nap(plannedMs)
        if (this.paused) {
          this.paused = false
          redis.resume()
        }
        break
      case 'redis-kill':
        await redis.kill()
        await this.nap(plannedMs)
        await redis.restart()
        break
      case 'proxy-reset':
        await proxy.reset(plannedMs)
        await this.nap(plannedMs)
        await proxy.heal()
        break
      case 'proxy-hold':
        await proxy.hold(plannedMs)
        await this.nap(plannedMs)
        await proxy.heal()
        break
      case 'pubsub-kill':
        note = `${await this.cluster.killPubsubClients()} subscriber connections killed`
        break
    }
    const actionEnd = this.clock()
    const deadline = actionEnd + RECOVERY_LIMIT_MS
    const seen = await this.waitRedisBack(deadline)
    const redisBack = this.clock()
    const podsLeft = await this.waitPodsBack(deadline)
    const recovered = this.clock()
    const problems = [
      ...(note === undefined ? [] : [note]),
      ...(seen === this.options.subscribers
        ? []
        : [`${seen ?? 'no'} subscribers of ${this.options.subscribers}`]),
      ...(podsLeft === undefined ? [] : [`not back after ${RECOVERY_LIMIT_MS / 1000} s: ${podsLeft}`]),
    ]
    note = problems.length === 0 ? undefined : problems.join('; ')
    const window: FaultWindow = {
      index: this.windows.length + 1,
      kind,
      plannedMs,
      start,
      actionEnd,
      redisBack,
      recovered,
      end: recovered + this.options.settleMs,
      settled: seen === this.options.subscribers && podsLeft === undefined,
      ...(note === undefined ? {} : { note }),
    }
    this.windows.push(window)
    this.log(
      `fault ${window.index} ${kind} at ${(start / 1000).toFixed(1)} s: ${plannedMs} ms; Redis and subscribers back ${Math.round(redisBack - actionEnd)} ms after, pods ${Math.round(recovered - actionEnd)} ms after${note === undefined ? '' : ` (${note})`}`,
    )
    // The margin is part of the window: the next quiet period starts after it.
    await this.nap(Math.max(0, window.end - this.clock()))
  }

  /** Polls until every pod reports itself back (L2, breaker, bus, repairs); what is not, if time ran out. */
  private async waitPodsBack(deadline: number): Promise<string | undefined> {
    let left: string | undefined
    while (this.clock() < deadline && !this.aborted) {
      left = await this.cluster.podsUnsettled()
      if (left === undefined) return undefined
      await sleep(50)
    }
    return left
  }

  /** Polls until Redis answers and every pod's subscriber is back; the count last seen. */
  private async waitRedisBack(deadline: number): Promise<number | undefined> {
    let seen: number | undefined
    while (this.clock() < deadline && !this.aborted) {
      seen = await this.cluster.pubsubClients()
      if (seen !== undefined && seen >= this.options.subscribers) return seen
      await sleep(50)
    }
    return seen
  }
}
