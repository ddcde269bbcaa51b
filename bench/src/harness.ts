import { Bench } from 'tinybench'

/** One measured figure. `baseline` names the row it is compared with, in the same run. */
export interface BenchRow {
  suite: string
  name: string
  opsPerSec: number
  /** Mean time per operation in nanoseconds. */
  meanNs: number
  p99Ns?: number
  samples: number
  baseline?: string
  /** opsPerSec of the baseline divided by this row's: how many times slower than the baseline. */
  slowdown?: number
  note?: string
}

/** A suite exports `run()`; `pnpm bench` runs every suite in bench/src/suites in one process. */
export interface BenchSuite {
  name: string
  run(): Promise<BenchRow[]>
}

export interface Task {
  name: string
  fn: () => unknown | Promise<unknown>
  /** Name of another task in the same call to compare with. */
  baseline?: string
}

/** Runs tasks in one tinybench instance (interleaved warm-up, same process) and returns rows with ratios. */
export async function measure(
  suite: string,
  tasks: readonly Task[],
  options: { time?: number; warmupTime?: number } = {},
): Promise<BenchRow[]> {
  const bench = new Bench({ time: options.time ?? 1500, warmupTime: options.warmupTime ?? 300 })
  for (const task of tasks) bench.add(task.name, task.fn)
  await bench.run()
  const rows: BenchRow[] = bench.tasks.map((t) => {
    const r = t.result as unknown as {
      throughput?: { mean: number }
      latency?: { mean: number; p99?: number; samplesCount?: number; samples?: number[] }
      hz?: number
      mean?: number
      p99?: number
      samples?: number[]
    }
    const opsPerSec = r.throughput?.mean ?? r.hz ?? 0
    const meanMs = r.latency?.mean ?? r.mean ?? 0
    const p99Ms = r.latency?.p99 ?? r.p99
    return {
      suite,
      name: t.name,
      opsPerSec,
      meanNs: meanMs * 1e6,
      ...(p99Ms === undefined ? {} : { p99Ns: p99Ms * 1e6 }),
      samples: r.latency?.samplesCount ?? r.latency?.samples?.length ?? r.samples?.length ?? 0,
    }
  })
  for (const task of tasks) {
    if (task.baseline === undefined) continue
    const row = rows.find((r) => r.name === task.name)
    const base = rows.find((r) => r.name === task.baseline)
    if (row && base && row.opsPerSec > 0) {
      row.baseline = base.name
      row.slowdown = base.opsPerSec / row.opsPerSec
    }
  }
  return rows
}

/** Latency percentiles of a list of durations (ms). */
export function percentiles(durationsMs: number[]): { p50: number; p99: number; max: number; count: number } {
  const sorted = [...durationsMs].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0, count: sorted.length }
}

export function formatRows(rows: readonly BenchRow[]): string {
  const lines = ['| suite | task | ops/s | mean | p99 | vs baseline |', '|---|---|---:|---:|---:|---|']
  for (const r of rows) {
    const ratio = r.slowdown === undefined ? '' : `${r.slowdown.toFixed(2)}x slower than ${r.baseline}`
    lines.push(
      `| ${r.suite} | ${r.name} | ${Math.round(r.opsPerSec).toLocaleString('en-US')} | ${fmtNs(r.meanNs)} | ${r.p99Ns === undefined ? '' : fmtNs(r.p99Ns)} | ${ratio}${r.note ? ` ${r.note}` : ''} |`,
    )
  }
  return lines.join('\n')
}

function fmtNs(ns: number): string {
  if (ns < 1_000) return `${ns.toFixed(0)} ns`
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(1)} µs`
  return `${(ns / 1_000_000).toFixed(2)} ms`
}
