import type { CompareCache, Contender } from './contenders/contender.ts'

/** One library's figures for one scenario, as written to results.json. */
export interface ScenarioResult {
  scenario: string
  library: string
  /** Completed calls per second (throughput scenarios); the median run's when the scenario was repeated. */
  opsPerSec?: number
  /** ops/s of every run, when the scenario was repeated (the figures above are the median run's). */
  runs?: number[]
  ops?: number
  p50Ms?: number
  p99Ms?: number
  maxMs?: number
  /** Errors thrown to callers. */
  errors: number
  /** Correctness figures (wrong or stale values, loader calls, unseen updates, recovery time...). */
  checks: Record<string, number | string | boolean | null>
  notes?: string[]
  /** Set when the run itself failed (crash, timeout): the figures above are then missing. */
  failure?: string
}

/** What a scenario gets from the worker that runs it. */
export interface ScenarioContext {
  contender: Contender
  redisUrl: string
  /** A fresh instance of the library under test, closed by the worker at the end. */
  create(): Promise<CompareCache>
  /** A second process running the same library (a second pod), closed at the end. */
  peer(): Promise<Peer>
  /** Asks the orchestrator, which started redis-server, to SIGSTOP or SIGCONT it. */
  signalRedis(signal: 'SIGSTOP' | 'SIGCONT'): Promise<void>
  /** How many keys Redis holds: DBSIZE (summed over the masters of the cluster, for a cluster contender). */
  countKeys(): Promise<number>
}

/** The second pod: commands it runs against its own instance of the library. */
export interface Peer {
  /** Reads `key` until it holds a value; resolves its version. */
  prime(key: string): Promise<number | undefined>
  /** Starts reading `key` in a loop, recording when each version is first seen; `stopWatch` returns them. */
  watch(key: string): Promise<void>
  /** Absolute times (ms) at which each version was first read, by version. */
  stopWatch(): Promise<{ firstSeen: Record<number, number>; reads: number; errors: number }>
  /** At absolute time `startAt`, `callers` concurrent getOrSet on `key` with a `loaderMs` loader. */
  stampede(args: { key: string; startAt: number; callers: number; loaderMs: number }): Promise<StampedeSide>
}

export interface StampedeSide {
  loaderCalls: number
  errors: number
  /** Distinct values the callers received (1 when every caller got the same load's result). */
  values: string[]
  p99Ms: number
  maxMs: number
  /** When the first caller fired (absolute ms), to see how simultaneous the two processes were. */
  firstCallAt: number
}

export interface Scenario {
  id: string
  /** How many times the orchestrator runs it per library (interleaved), keeping the median run. @default 1 */
  repeat?: number
  title: string
  /** What is measured, for the report. */
  description: string
  run(ctx: ScenarioContext): Promise<ScenarioResult>
}
