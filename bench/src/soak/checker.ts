import type { FaultWindow } from './faults.ts'
import type { ReadRecord, WriteRecord } from './load.ts'

/** Counts of one pod (or all), split by phase. */
export interface Tally {
  reads: number
  /** Stale reads; in steady state, those older than the propagation window (they fail the run). */
  stale: number
  /** Steady state only: stale reads that started within the propagation window after the missed write's ack. */
  propagation: number
  readErrors: number
  writesAcked: number
  writeErrors: number
}

/** A pod's figures in steady state and during fault windows, and its lost writes. */
export interface PodFigures {
  pod: string
  steady: Tally
  fault: Tally
  lostWrites: number
}

/** A read older than a write acknowledged before it was sent, with what happened around it. */
export interface StaleRead {
  read: ReadRecord
  /** The oldest acknowledged write the answer misses. */
  missed: WriteRecord | undefined
  /** ms from that write's acknowledgement to the read being sent. */
  ageMs: number
  /**
   * How the read is counted: `fault` (overlaps a fault window), `propagation` (steady state, sent
   * within the propagation window after the missed write's ack: the bus notice may still be on its
   * way, which the tiered README documents), or `steady` (older: a broken promise).
   */
  kind: 'fault' | 'propagation' | 'steady'
  /** The answer's `max` is current and only its `count` is behind (see {@link missedWrite}). */
  byCount: boolean
  /** The fault window the read overlaps (fault phase). */
  window: FaultWindow | undefined
  /** The last fault window that started before the read (for steady-state reads: the one before it). */
  previous: FaultWindow | undefined
}

/** Everything the soak found. */
export interface SoakVerdict {
  pods: PodFigures[]
  total: PodFigures
  /** Steady-state stale reads older than the propagation window: each one fails the run. */
  staleSteady: StaleRead[]
  /** Steady-state stale reads within the propagation window of the missed write's ack. */
  stalePropagation: StaleRead[]
  /** The propagation window the reads were sorted with, ms. */
  propagationWindowMs: number
  staleFault: StaleRead[]
  /** Stale reads per fault window (by its index), by pod. */
  perWindow: Map<number | string, Record<string, number>>
  /** Writes acknowledged (202) whose event is not in the database. */
  lost: WriteRecord[]
  /** Writes not acknowledged whose event is in the database anyway (not an error: the answer was lost). */
  committedUnacked: number
  sweep: { reads: number; behind: ReadRecord[]; errors: number }
  /** ms of the run inside a fault window, injected or detected. */
  faultMs: number
  /** ms of the run inside a detected window (part of `faultMs`). */
  detectedMs: number
}

const emptyTally = (): Tally => ({
  reads: 0,
  stale: 0,
  propagation: 0,
  readErrors: 0,
  writesAcked: 0,
  writeErrors: 0,
})

/** The first window (in the given order: injected ones first) the span overlaps. */
function overlapping(windows: readonly FaultWindow[], start: number, end: number): FaultWindow | undefined {
  return windows.find((w) => start < w.end && end > w.start)
}

/** Length of the union of the windows' spans within [0, runMs] (detected and injected ones may overlap). */
function coveredMs(windows: readonly FaultWindow[], runMs: number): number {
  let total = 0
  let reach = 0
  for (const w of [...windows].sort((a, b) => a.start - b.start)) {
    const from = Math.max(w.start, reach, 0)
    const to = Math.min(w.end, runMs)
    if (to > from) total += to - from
    reach = Math.max(reach, to)
  }
  return total
}

/** True when the answer misses a write acknowledged before the request was sent. */
function isStale(read: ReadRecord): boolean {
  if (read.version === undefined || read.count === undefined) return false
  return read.version < read.expected || read.count < read.expectedCount
}

/**
 * The oldest acknowledged write a stale answer provably misses: one acked before the read was sent
 * with a version above the answer's `max`. An answer behind only in `count` (writes of the metric
 * acknowledged out of order) names no version: its missed write is taken as the (count+1)-th ack,
 * the newest it can be (the answer holds at most `count` of the writes acked before the read).
 * `acked`: the metric's acknowledged writes.
 */
export function missedWrite(read: ReadRecord, acked: readonly WriteRecord[]): WriteRecord | undefined {
  const before = acked.filter((w) => w.acked && w.end < read.start).sort((a, b) => a.end - b.end)
  const byVersion = before.find((w) => w.version > (read.version ?? 0))
  if (byVersion !== undefined) return byVersion
  return before[read.count ?? 0]
}

/** Nearest-rank percentile of `values` (`q` from 0 to 1); 0 for none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!
}

/**
 * Sorts every read and write into steady state or fault window (injected first, then detected:
 * a read overlapping both is counted in the injected one), per pod, and checks acknowledged
 * writes against the database rows (`committed`: `metric:version` of every soak event in the file).
 * A stale read outside every fault window that was sent within `propagationWindowMs` of the missed
 * write's acknowledgement is counted as propagation lag, not as a steady-state stale read.
 */
export function check(
  podNames: readonly string[],
  reads: readonly ReadRecord[],
  writes: readonly WriteRecord[],
  windows: readonly FaultWindow[],
  committed: ReadonlySet<string>,
  runMs: number,
  propagationWindowMs: number,
): SoakVerdict {
  const injectedFirst = [
    ...windows.filter((w) => w.kind !== 'detected'),
    ...windows.filter((w) => w.kind === 'detected'),
  ]
  const byStart = [...windows].sort((a, b) => a.start - b.start)
  const figures = new Map(
    podNames.map((pod) => [pod, { pod, steady: emptyTally(), fault: emptyTally(), lostWrites: 0 }]),
  )
  const total: PodFigures = { pod: 'all', steady: emptyTally(), fault: emptyTally(), lostWrites: 0 }
  const acked = new Map<string, WriteRecord[]>()
  for (const write of writes) {
    if (!write.acked) continue
    const list = acked.get(write.metric) ?? []
    list.push(write)
    acked.set(write.metric, list)
  }

  const lost: WriteRecord[] = []
  let committedUnacked = 0
  for (const write of writes) {
    const phase = overlapping(injectedFirst, write.start, write.end) === undefined ? 'steady' : 'fault'
    const inDb = committed.has(`${write.metric}:${write.version}`)
    for (const f of [figures.get(write.pod)!, total]) {
      if (write.acked) f[phase].writesAcked++
      else f[phase].writeErrors++
      if (write.acked && !inDb) f.lostWrites++
    }
    if (write.acked && !inDb) lost.push(write)
    if (!write.acked && inDb) committedUnacked++
  }

  const staleSteady: StaleRead[] = []
  const stalePropagation: StaleRead[] = []
  const staleFault: StaleRead[] = []
  const perWindow = new Map<number | string, Record<string, number>>()
  const sweep = { reads: 0, behind: [] as ReadRecord[], errors: 0 }
  for (const read of reads) {
    if (read.sweep) {
      sweep.reads++
      if (read.version === undefined) sweep.errors++
      else if (isStale(read)) sweep.behind.push(read)
      continue
    }
    const window = overlapping(injectedFirst, read.start, read.end)
    const phase = window === undefined ? 'steady' : 'fault'
    const stale = isStale(read)
    const missed = stale ? missedWrite(read, acked.get(read.metric) ?? []) : undefined
    const ageMs = missed === undefined ? Number.POSITIVE_INFINITY : read.start - missed.end
    const kind: StaleRead['kind'] =
      window !== undefined ? 'fault' : ageMs <= propagationWindowMs ? 'propagation' : 'steady'
    for (const f of [figures.get(read.pod)!, total]) {
      f[phase].reads++
      if (read.version === undefined) f[phase].readErrors++
      if (stale && kind === 'propagation') f[phase].propagation++
      else if (stale) f[phase].stale++
    }
    if (!stale) continue
    const previous = [...byStart].reverse().find((w) => w.start <= read.start)
    const entry: StaleRead = {
      read,
      missed,
      ageMs: missed === undefined ? 0 : ageMs,
      kind,
      byCount: read.version! >= read.expected,
      window,
      previous,
    }
    if (kind === 'steady') staleSteady.push(entry)
    else if (kind === 'propagation') stalePropagation.push(entry)
    else {
      staleFault.push(entry)
      const counts = perWindow.get(window!.index) ?? {}
      counts[read.pod] = (counts[read.pod] ?? 0) + 1
      perWindow.set(window!.index, counts)
    }
  }

  const faultMs = coveredMs(windows, runMs)
  const detectedMs = coveredMs(
    windows.filter((w) => w.kind === 'detected'),
    runMs,
  )
  return {
    pods: [...figures.values()],
    total,
    staleSteady,
    stalePropagation,
    propagationWindowMs,
    staleFault,
    perWindow,
    lost,
    committedUnacked,
    sweep,
    faultMs,
    detectedMs,
  }
}

/**
 * True when the run breaks the promise: a steady-state stale read (propagation lag excluded), a lost write, a pod behind after
 * the run, or a fault the pods did not recover from within the limit.
 */
export function failed(verdict: SoakVerdict, windows: readonly FaultWindow[]): boolean {
  return (
    windows.some((w) => !w.settled) ||
    verdict.staleSteady.length > 0 ||
    verdict.lost.length > 0 ||
    verdict.sweep.behind.length > 0 ||
    verdict.sweep.errors > 0
  )
}
