import type { FaultWindow } from './faults.ts'
import type { ReadRecord, WriteRecord } from './load.ts'

/** Counts of one pod (or all), split by phase. */
export interface Tally {
  reads: number
  stale: number
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
  /** The fault window the read overlaps (fault phase). */
  window: FaultWindow | undefined
  /** The last fault window that started before the read (for steady-state reads: the one before it). */
  previous: FaultWindow | undefined
}

/** Everything the soak found. */
export interface SoakVerdict {
  pods: PodFigures[]
  total: PodFigures
  staleSteady: StaleRead[]
  staleFault: StaleRead[]
  /** Stale reads per fault window, by pod. */
  perWindow: Map<number, Record<string, number>>
  /** Writes acknowledged (202) whose event is not in the database. */
  lost: WriteRecord[]
  /** Writes not acknowledged whose event is in the database anyway (not an error: the answer was lost). */
  committedUnacked: number
  sweep: { reads: number; behind: ReadRecord[]; errors: number }
  /** ms of the run inside a fault window. */
  faultMs: number
}

const emptyTally = (): Tally => ({ reads: 0, stale: 0, readErrors: 0, writesAcked: 0, writeErrors: 0 })

function overlapping(windows: readonly FaultWindow[], start: number, end: number): FaultWindow | undefined {
  return windows.find((w) => start < w.end && end > w.start)
}

/** True when the answer misses a write acknowledged before the request was sent. */
function isStale(read: ReadRecord): boolean {
  if (read.version === undefined || read.count === undefined) return false
  return read.version < read.expected || read.count < read.expectedCount
}

/**
 * Sorts every read and write into steady state or fault window, per pod, and checks acknowledged
 * writes against the database rows (`committed`: `metric:version` of every soak event in the file).
 */
export function check(
  podNames: readonly string[],
  reads: readonly ReadRecord[],
  writes: readonly WriteRecord[],
  windows: readonly FaultWindow[],
  committed: ReadonlySet<string>,
  runMs: number,
): SoakVerdict {
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
    const phase = overlapping(windows, write.start, write.end) === undefined ? 'steady' : 'fault'
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
  const staleFault: StaleRead[] = []
  const perWindow = new Map<number, Record<string, number>>()
  const sweep = { reads: 0, behind: [] as ReadRecord[], errors: 0 }
  for (const read of reads) {
    if (read.sweep) {
      sweep.reads++
      if (read.version === undefined) sweep.errors++
      else if (isStale(read)) sweep.behind.push(read)
      continue
    }
    const window = overlapping(windows, read.start, read.end)
    const phase = window === undefined ? 'steady' : 'fault'
    const stale = isStale(read)
    for (const f of [figures.get(read.pod)!, total]) {
      f[phase].reads++
      if (read.version === undefined) f[phase].readErrors++
      if (stale) f[phase].stale++
    }
    if (!stale) continue
    const missed = (acked.get(read.metric) ?? [])
      .filter((w) => w.version > read.version! && w.end < read.start)
      .sort((a, b) => a.end - b.end)[0]
    const previous = [...windows].reverse().find((w) => w.start <= read.start)
    const entry: StaleRead = {
      read,
      missed,
      ageMs: missed === undefined ? 0 : read.start - missed.end,
      window,
      previous,
    }
    if (window === undefined) staleSteady.push(entry)
    else {
      staleFault.push(entry)
      const counts = perWindow.get(window.index) ?? {}
      counts[read.pod] = (counts[read.pod] ?? 0) + 1
      perWindow.set(window.index, counts)
    }
  }

  let faultMs = 0
  for (const w of windows) faultMs += Math.min(w.end, runMs) - w.start
  return {
    pods: [...figures.values()],
    total,
    staleSteady,
    staleFault,
    perWindow,
    lost,
    committedUnacked,
    sweep,
    faultMs,
  }
}

/**
 * True when the run breaks the promise: a steady-state stale read, a lost write, a pod behind after
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
