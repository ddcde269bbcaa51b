/**
 * Faults nobody injected, as the pods and the proxy report them. A pod whose L2 breaker is not
 * closed, whose L2 tier is unavailable, whose bus is disconnected or which queued a removal L2 did
 * not confirm (`cache_l2_repairs_total{outcome="queued"}` went up; `cache_l2_repairs_pending` alone
 * is above 0 during every removal's round trip) is in a partial fault DESIGN.md describes (one pod
 * lost Redis; what it could not apply is applied when L2 is back): the detector opens a `detected` window as soon as a poll of the pods' metrics
 * shows it, and closes it when every pod is back to normal, plus the settle margin the injected
 * windows use. A stall of the fault proxy process (pod A's bytes held) is a window from the stall's
 * start to its end plus the margin. Windows never open while an injected fault's window is open.
 */
import { sleep } from '@strata-cache/test-suite/testing'
import type { PodState, SoakCluster } from './cluster.ts'
import type { FaultWindow } from './faults.ts'

/** How often the pods' metrics are read: a breaker open for 0.5 s is seen several times. */
const POLL_MS = 100
/** A poll's answer waits this long per pod; a pod that does not answer keeps an open window open. */
const POLL_TIMEOUT_MS = 1_000
/** A detected window's start is the pod's last normal answer, at most this long before the poll. */
const LOOKBACK_LIMIT_MS = 1_000
/** A detected window still open after this long is not settled (as for injected faults). */
const RECOVERY_LIMIT_MS = 20_000

/** Polls the pods' own view of themselves during the load and records detected windows. */
export class FaultDetector {
  private readonly podWindows: FaultWindow[] = []
  private readonly stallWindows: FaultWindow[] = []
  private open: { window: FaultWindow; seen: Set<string> } | undefined
  private readonly lastNormal = new Map<string, number>()
  private readonly lastQueued = new Map<string, number>()
  private stopped = false
  private loop: Promise<void> | undefined
  /** Poll rounds done, and the longest one (ms): how fine the detection was. */
  rounds = 0
  longestRoundMs = 0

  constructor(
    private readonly cluster: SoakCluster,
    private readonly settleMs: number,
    private readonly clock: () => number,
    /** True while an injected fault's window is open: no detected window opens then. */
    private readonly injecting: () => boolean,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts polling (the run clock must be at its zero). */
  start(): void {
    this.loop ??= this.run()
  }

  /** True while a detected window is open. */
  get active(): boolean {
    return this.open !== undefined
  }

  /** Stops polling; closes an open window at the time of stopping. */
  async stop(): Promise<void> {
    this.stopped = true
    await this.loop
    if (this.open !== undefined) this.close(this.clock(), 'still open when the load ended')
  }

  /**
   * Every detected window, in order of start: the pods' and, from `proxyStalls` (epoch ms),
   * one per stall of the fault proxy. Call after `stop()`.
   */
  windows(proxyStalls: readonly { at: number; ms: number }[], epochMs: number): FaultWindow[] {
    this.stallWindows.length = 0
    for (const stall of proxyStalls) {
      const start = stall.at - epochMs
      const end = start + stall.ms
      this.stallWindows.push({
        index: '',
        kind: 'detected',
        cause: `fault proxy stalled ${Math.round(stall.ms)} ms (pod A's bytes held)`,
        plannedMs: 0,
        start,
        actionEnd: end,
        redisBack: end,
        recovered: end,
        end: end + this.settleMs,
        settled: true,
      })
    }
    const all = [...this.podWindows, ...this.stallWindows].sort((a, b) => a.start - b.start)
    all.forEach((w, i) => {
      w.index = `D${i + 1}`
    })
    return all
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const sent = this.clock()
      const states = await this.cluster.podStates(POLL_TIMEOUT_MS)
      const answered = this.clock()
      this.rounds++
      this.longestRoundMs = Math.max(this.longestRoundMs, answered - sent)
      if (!this.stopped) this.observe(states, sent, answered)
      await sleep(Math.max(10, POLL_MS - (this.clock() - sent)))
    }
  }

  /**
   * What opens a window on one pod: a gauge not back other than `cache_l2_repairs_pending` (above 0
   * while any removal's L2 round trip is in flight), or removals queued for replay since its last
   * answer (`queuedBefore`).
   */
  private faultsOf(state: PodState, queuedBefore: number): string[] {
    const faults = state.wrong.filter((gauge) => !gauge.startsWith('cache_l2_repairs_pending'))
    if (state.queued > queuedBefore) {
      const pending = state.wrong.find((gauge) => gauge.startsWith('cache_l2_repairs_pending'))
      faults.push(
        `${state.queued - queuedBefore} removal(s) queued for replay (${pending ?? 'already replayed'})`,
      )
    }
    return faults
  }

  private observe(states: readonly PodState[], sent: number, answered: number): void {
    // A pod that did not answer tells nothing: it neither opens nor closes a window.
    const faulty = states
      .filter((x) => x.answered)
      .map((x) => ({ pod: x.pod, faults: this.faultsOf(x, this.lastQueued.get(x.pod) ?? x.queued) }))
      .filter((x) => x.faults.length > 0)
    for (const x of states) if (x.answered) this.lastQueued.set(x.pod, x.queued)
    const wrong = states.filter((x) => x.answered && x.wrong.length > 0)
    const silent = states.filter((x) => !x.answered)
    if (this.open !== undefined) {
      for (const x of faulty)
        for (const fault of x.faults) this.open.seen.add(`${x.pod}: ${fault.split(' (')[0]}`)
      // Closes once every pod answers normal, repairs pending 0 included (the queued ones replayed).
      if (wrong.length === 0 && silent.length === 0) this.close(answered)
      else if (answered - this.open.window.actionEnd > RECOVERY_LIMIT_MS) this.open.window.settled = false
    } else if (faulty.length > 0 && !this.injecting()) {
      const lastNormal = Math.min(...faulty.map((x) => this.lastNormal.get(x.pod) ?? sent))
      const cause = faulty.map((x) => `${x.pod}: ${x.faults.join(', ')}`).join('; ')
      const window: FaultWindow = {
        index: '',
        kind: 'detected',
        cause,
        plannedMs: 0,
        start: Math.max(lastNormal, sent - LOOKBACK_LIMIT_MS),
        actionEnd: answered,
        redisBack: answered,
        recovered: answered,
        end: answered,
        settled: true,
      }
      this.open = { window, seen: new Set() }
      this.log(`detected at ${(answered / 1000).toFixed(2)} s: ${cause}`)
    }
    const faultyPods = new Set(faulty.map((x) => x.pod))
    for (const x of states) if (x.answered && !faultyPods.has(x.pod)) this.lastNormal.set(x.pod, answered)
  }

  private close(at: number, note?: string): void {
    const { window, seen } = this.open!
    this.open = undefined
    window.recovered = at
    window.end = at + this.settleMs
    const gauges = [...seen].join(', ')
    const notes = [...(seen.size > 0 ? [`seen: ${gauges}`] : []), ...(note === undefined ? [] : [note])]
    if (notes.length > 0) window.note = notes.join('; ')
    this.podWindows.push(window)
    this.log(
      `detected window from ${(window.start / 1000).toFixed(2)} s: pods back ${Math.round(at - window.actionEnd)} ms after it was seen, ends ${(window.end / 1000).toFixed(2)} s (${window.cause})`,
    )
  }
}
