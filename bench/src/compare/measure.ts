/** Timed loops shared by the scenarios: throughput without per-op timing, latency with it. */

/** Absolute wall-clock time in ms with sub-ms precision, comparable across processes on one host. */
export function nowAbs(): number {
  return performance.timeOrigin + performance.now()
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Lets timers and I/O (bus messages, IPC) run between reads of a tight loop. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export interface Percentiles {
  p50: number
  p99: number
  max: number
  count: number
}

/** Percentiles of durations in ms (nearest rank). */
export function percentilesOf(values: ArrayLike<number>, count = values.length): Percentiles {
  const sorted = Float64Array.from({ length: count }, (_, i) => values[i]!).sort()
  const at = (q: number) => (count === 0 ? 0 : sorted[Math.min(count - 1, Math.floor(q * count))]!)
  return { p50: at(0.5), p99: at(0.99), max: count === 0 ? 0 : sorted[count - 1]!, count }
}

/** Sequential awaited calls for `durationMs` after a warm-up; the clock is read once per 256 calls. */
export async function sequentialThroughput(
  op: (i: number) => unknown,
  options: { warmupMs: number; durationMs: number },
): Promise<{ opsPerSec: number; ops: number }> {
  const runFor = async (ms: number) => {
    let i = 0
    const start = performance.now()
    const end = start + ms
    for (;;) {
      for (let j = 0; j < 256; j++) await op(i++)
      if (performance.now() >= end) break
    }
    return { ops: i, elapsed: performance.now() - start }
  }
  await runFor(options.warmupMs)
  const { ops, elapsed } = await runFor(options.durationMs)
  return { opsPerSec: (ops / elapsed) * 1000, ops }
}

/** Sequential awaited calls, each one timed. */
export async function sequentialLatency(op: (i: number) => unknown, count: number): Promise<Percentiles> {
  const samples = new Float64Array(count)
  for (let i = 0; i < count; i++) {
    const t = performance.now()
    await op(i)
    samples[i] = performance.now() - t
  }
  return percentilesOf(samples)
}

export interface ConcurrentResult extends Percentiles {
  ops: number
  errors: number
  elapsedMs: number
  opsPerSec: number
  firstError?: string
}

/**
 * `concurrency` callers, each awaiting one call after another, until `durationMs` passes or `maxOps`
 * calls were started. Every call is timed; a rejected call counts as an error (and still as an op).
 */
export async function concurrentRun(
  op: (i: number) => Promise<unknown>,
  options: { concurrency: number; durationMs: number; maxOps: number },
): Promise<ConcurrentResult> {
  const samples = new Float64Array(options.maxOps)
  let next = 0
  let done = 0
  let errors = 0
  let firstError: string | undefined
  const start = performance.now()
  const end = start + options.durationMs
  const caller = async () => {
    while (next < options.maxOps && performance.now() < end) {
      const i = next++
      const t = performance.now()
      try {
        await op(i)
      } catch (error) {
        errors++
        firstError ??= String(error)
      }
      samples[done++] = performance.now() - t
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, caller))
  const elapsedMs = performance.now() - start
  return {
    ...percentilesOf(samples, done),
    ops: done,
    errors,
    elapsedMs,
    opsPerSec: (done / elapsedMs) * 1000,
    ...(firstError === undefined ? {} : { firstError }),
  }
}

/** Rejects after `ms` so a hung call cannot hold a scenario forever. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
