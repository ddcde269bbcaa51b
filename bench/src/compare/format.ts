/** How figures and correctness counts are written in the report. */
import type { ScenarioResult } from './scenario.ts'

export function fmtOps(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US')
}

export function fmtMs(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '–'
  if (ms < 0.001) return `${(ms * 1e6).toFixed(0)} ns`
  if (ms < 1) return `${(ms * 1000).toFixed(ms < 0.01 ? 2 : 1)} µs`
  if (ms < 100) return `${ms.toFixed(2)} ms`
  return `${Math.round(ms).toLocaleString('en-US')} ms`
}

/** Correctness counts of the throughput scenarios, and how to name them. */
const PROBLEM_CHECKS = new Map([
  ['missesOfWrittenKeys', 'reads of written keys that came back empty'],
  ['writesMissingFromRedis', 'written keys missing from Redis'],
  ['wrongValues', 'wrong values'],
  ['missesDuringRun', 'misses'],
  ['extraLoaderCalls', 'extra loader calls'],
  ['notReadableFromAnotherInstance', 'sampled keys another instance could not read'],
])

/** The correctness counts where `r` did worse than Strata's run, named ("99 wrong values (Strata: 0)"). */
export function worseChecks(r: ScenarioResult, strata: ScenarioResult): string[] {
  const num = (x: ScenarioResult, name: string) =>
    typeof x.checks[name] === 'number' ? (x.checks[name] as number) : undefined
  return Object.entries(r.checks)
    .filter(([name, v]) => PROBLEM_CHECKS.has(name) && typeof v === 'number' && v > (num(strata, name) ?? 0))
    .map(([name, v]) => `${v} ${PROBLEM_CHECKS.get(name)} (Strata: ${num(strata, name) ?? 0})`)
}
