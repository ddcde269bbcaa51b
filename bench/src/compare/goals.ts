/** The "Issue 15 goals" section of the report: each goal checked against this run's results. */
import { contenders, isPeer, onlyIn } from './contenders/index.ts'
import { fmtOps, worseChecks } from './format.ts'
import type { ScenarioResult } from './scenario.ts'

interface Goal {
  goal: string
  figure: string
  target: string
  status: 'met' | 'not met' | 'not run' | 'failed'
}

/** L1-hit floor of issue 15: no regression below this. */
const L1_FLOOR_OPS = 5_000_000

function find(results: readonly ScenarioResult[], scenario: string, library: string) {
  return results.find((r) => r.scenario === scenario && r.library === library)
}

/** The median ops/s, and the range over the repeated runs when there were several. */
function opsWithRange(r: ScenarioResult): string {
  const range =
    r.runs !== undefined && r.runs.length > 1
      ? ` (runs ${fmtOps(Math.min(...r.runs))} – ${fmtOps(Math.max(...r.runs))})`
      : ''
  return `${fmtOps(r.opsPerSec)} ops/s${range}`
}

/** Missing or failed inputs decide the row before any figure does. */
function unavailable(inputs: readonly (ScenarioResult | undefined)[]): Goal['status'] | undefined {
  if (inputs.some((r) => r === undefined)) return 'not run'
  if (inputs.some((r) => r?.failure !== undefined || r?.opsPerSec === undefined)) return 'failed'
  return undefined
}

/** Strata's ops/s over a reference's, against the fraction the issue asks for. */
function ratioGoal(
  results: readonly ScenarioResult[],
  scenario: string,
  reference: string,
  goal: string,
  least: number,
): Goal {
  const strata = find(results, scenario, 'strata')
  const ref = find(results, scenario, reference)
  const target = `≥ ${least.toFixed(2)}`
  const missing = unavailable([strata, ref])
  if (missing !== undefined) return { goal, figure: '–', target, status: missing }
  const ratio = strata!.opsPerSec! / ref!.opsPerSec!
  return {
    goal,
    figure: `${ratio.toFixed(2)} (${fmtOps(strata!.opsPerSec)} / ${fmtOps(ref!.opsPerSec)} ops/s)`,
    target,
    status: ratio >= least ? 'met' : 'not met',
  }
}

/** Strata's ops/s above every peer's that ran in the scenario; peers that did not run are named. */
function aheadGoal(results: readonly ScenarioResult[], scenario: string, goal: string): Goal {
  const target = "above every peer's ops/s"
  const strata = find(results, scenario, 'strata')
  const peers = contenders.filter(
    (c) => isPeer(c.id) && (onlyIn[c.id] === undefined || onlyIn[c.id]!.includes(scenario)),
  )
  const ran = peers.filter((c) => find(results, scenario, c.id) !== undefined)
  const missing = unavailable([strata])
  if (missing !== undefined) return { goal, figure: '–', target, status: missing }
  const parts: string[] = []
  let ahead = true
  let compared = 0
  for (const c of ran) {
    const r = find(results, scenario, c.id)!
    if (r.failure !== undefined || r.opsPerSec === undefined) {
      parts.push(`${c.label} failed`)
      continue
    }
    compared++
    const figure = `${c.label} ${fmtOps(r.opsPerSec)} (${(r.opsPerSec / strata!.opsPerSec!).toFixed(2)}×)`
    // Speed bought with missing or wrong answers is named, and does not count as ahead of Strata.
    const worse = worseChecks(r, strata!)
    if (worse.length > 0) parts.push(`${figure} but with ${worse.join(', ')}`)
    else {
      if (r.opsPerSec >= strata!.opsPerSec!) ahead = false
      parts.push(figure)
    }
  }
  const notRun = peers.filter((c) => !ran.includes(c))
  if (notRun.length > 0) parts.push(`not run: ${notRun.map((c) => c.label).join(', ')}`)
  return {
    goal,
    figure: `Strata ${fmtOps(strata!.opsPerSec)} ops/s; ${parts.join('; ')}`,
    target,
    status: ran.length === 0 ? 'not run' : compared === 0 ? 'failed' : ahead ? 'met' : 'not met',
  }
}

/** A propagation percentile; an update the second process never saw (within 1 s) fails the goal too. */
function propagationGoal(results: readonly ScenarioResult[], which: 'p50' | 'p99', most: number): Goal {
  const goal = `Invalidation propagation between two processes, ${which}`
  const target = `≤ ${most} ms`
  const strata = find(results, 'invalidation', 'strata')
  if (strata === undefined) return { goal, figure: '–', target, status: 'not run' }
  const value = which === 'p50' ? strata.p50Ms : strata.p99Ms
  if (strata.failure !== undefined || value === undefined)
    return { goal, figure: '–', target, status: 'failed' }
  const unseen = typeof strata.checks.unseenWithin1s === 'number' ? strata.checks.unseenWithin1s : 0
  return {
    goal,
    figure: `${value.toFixed(3)} ms (${unseen}/${strata.ops ?? '–'} updates unseen within 1 s)`,
    target,
    status: value <= most && unseen === 0 ? 'met' : 'not met',
  }
}

function floorGoal(results: readonly ScenarioResult[], scenario: string, goal: string): Goal {
  const target = `≥ ${fmtOps(L1_FLOOR_OPS)} ops/s`
  const strata = find(results, scenario, 'strata')
  const missing = unavailable([strata])
  if (missing !== undefined) return { goal, figure: '–', target, status: missing }
  return {
    goal,
    figure: opsWithRange(strata!),
    target,
    status: strata!.opsPerSec! >= L1_FLOOR_OPS ? 'met' : 'not met',
  }
}

/** Every goal of issue 15, from the same run's results. */
function issue15Goals(results: readonly ScenarioResult[]): Goal[] {
  return [
    ratioGoal(
      results,
      'cold-get-or-set',
      'naive-ioredis',
      'Cold getOrSet: Strata / naive ioredis GET + SET',
      0.8,
    ),
    aheadGoal(results, 'cold-get-or-set', 'Cold getOrSet: Strata ahead of every peer'),
    ratioGoal(
      results,
      'l2-get',
      'strata-redis-only',
      'L2-only get (read once): Strata / Cache over RedisStore alone',
      0.9,
    ),
    aheadGoal(results, 'l2-get', 'L2-only get (read once): Strata ahead of every peer'),
    propagationGoal(results, 'p50', 0.3),
    propagationGoal(results, 'p99', 2),
    floorGoal(results, 'l1-get', 'L1-hit get (no regression)'),
    floorGoal(results, 'l1-get-or-set', 'L1-hit getOrSet (no regression)'),
  ]
}

export function renderGoals(results: readonly ScenarioResult[]): string[] {
  const out = ['## Issue 15 goals', '']
  out.push(
    'Strata is `createCache` (L1 + L2 + bus); each figure is the median run of this run\'s scenario. The references (a naive ioredis GET + SET, a Cache over RedisStore alone) are yardsticks, not peers. A peer faster only with missing or wrong answers is named but does not count as ahead. A goal whose scenario or library was left out of this run says "not run".',
    '',
    '| goal | figure | target | status |',
    '|---|---|---|---|',
  )
  for (const g of issue15Goals(results))
    out.push(`| ${g.goal} | ${g.figure.replaceAll('|', '\\|')} | ${g.target} | ${g.status} |`)
  out.push('')
  return out
}
