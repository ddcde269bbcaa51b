import { randomInt } from 'node:crypto'
import { parseDuration } from '@strata-cache/core'

/** What one `pnpm soak` run does; every field has a command-line option. */
export interface SoakOptions {
  /** How long the load runs. `--duration`, @default 2 min */
  durationMs: number
  /** Seeds the fault schedule and the load's choices. `--seed`, @default a random one (printed) */
  seed: number
  /** Requests per second over the three pods, reads and writes together. `--rate`, @default 150 */
  rate: number
  /** Share of the requests that are writes (POST an event). `--write-share`, @default 0.05 */
  writeShare: number
  /** Metrics (each one logical key read in two cached variants). `--keys`, @default 8 */
  keys: number
  /** The pods' degradedL1Ttl (CACHE_DEGRADED_L1_TTL), also the settle margin after each fault. `--degraded-l1-ttl`, @default 1 s */
  degradedL1TtlMs: number
  /** Quiet time between two faults, drawn between these bounds. `--quiet`, @default 4 s to 8 s */
  quietMs: readonly [number, number]
  /** Length of a pause, an outage after a kill, a reset or a hold. @default 1 s to 3 s */
  faultMs: readonly [number, number]
  /**
   * A stale read outside fault windows sent at most this long after the missed write's
   * acknowledgement is counted as propagation lag (the bus notice may still be on its way; the
   * tiered README's "Propagation is asynchronous"), not as a steady-state stale read.
   * `--propagation-window`, @default 100 ms
   */
  propagationWindowMs: number
  /** Requests in flight at most; a tick past it skips (and counts) its request. @default 64 */
  maxInFlight: number
  /** Print the report only; do not append it to bench/SOAK.md. `--dry`, @default false */
  dry: boolean
}

export const USAGE = `pnpm soak [--duration 2m] [--seed N] [--rate 150] [--write-share 0.05] [--keys 8]
           [--degraded-l1-ttl 1s] [--quiet 4s-8s] [--propagation-window 100ms] [--dry]`

function range(text: string, option: string): [number, number] {
  const [low, high = low] = text.split('-').map((part) => parseDuration(part, option))
  if (low === undefined || high === undefined || high < low) throw new Error(`${option}: use "4s-8s"`)
  return [low, high]
}

function number(text: string, option: string, min: number, max: number): number {
  const value = Number(text)
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${option}: ${JSON.stringify(text)} is not a number from ${min} to ${max}`)
  }
  return value
}

/** Reads `--name value` and `--name=value` pairs; throws with the usage on anything unknown. */
export function parseSoakArgs(argv: readonly string[]): SoakOptions {
  const options: SoakOptions = {
    durationMs: 120_000,
    seed: randomInt(1, 2 ** 31),
    rate: 150,
    writeShare: 0.05,
    keys: 8,
    degradedL1TtlMs: 1_000,
    quietMs: [4_000, 8_000],
    faultMs: [1_000, 3_000],
    propagationWindowMs: 100,
    maxInFlight: 64,
    dry: false,
  }
  const args = [...argv]
  while (args.length > 0) {
    const arg = args.shift()!
    if (arg === '--') continue
    if (arg === '--dry') {
      options.dry = true
      continue
    }
    const [name, inline] = arg.split('=', 2) as [string, string | undefined]
    const value = inline ?? args.shift()
    if (value === undefined) throw new Error(`${name} needs a value\nusage: ${USAGE}`)
    switch (name) {
      case '--duration':
        options.durationMs = parseDuration(value, name)
        break
      case '--seed':
        options.seed = number(value, name, 0, 2 ** 32 - 1)
        break
      case '--rate':
        options.rate = number(value, name, 1, 1_000)
        break
      case '--write-share':
        options.writeShare = number(value, name, 0, 1)
        break
      case '--keys':
        options.keys = number(value, name, 1, 100)
        break
      case '--degraded-l1-ttl':
        options.degradedL1TtlMs = parseDuration(value, name)
        break
      case '--quiet':
        options.quietMs = range(value, name)
        break
      case '--propagation-window':
        options.propagationWindowMs = parseDuration(value, name)
        break
      default:
        throw new Error(`unknown option ${name}\nusage: ${USAGE}`)
    }
  }
  if (options.durationMs < 10_000) throw new Error('--duration: at least 10s')
  return options
}
