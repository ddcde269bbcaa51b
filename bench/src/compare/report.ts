/** Renders the results of one run as bench/RESULTS.md. */
import type { Contender } from './contenders/contender.ts'
import { isPeer, onlyIn, references } from './contenders/index.ts'
import { fmtMs, fmtOps, worseChecks } from './format.ts'
import { renderGoals } from './goals.ts'
import type { Scenario, ScenarioResult } from './scenario.ts'

export interface RunInfo {
  startedAt: string
  durationS: number
  machine: Record<string, string>
  versions: Record<string, string>
  contenders: readonly Contender[]
  scenarios: readonly Scenario[]
  command: string
  /** Hand-written reading of the figures (bench/src/compare/analysis.md), appended after the list. */
  analysis?: string
}

type Cell = (r: ScenarioResult) => string
interface Column {
  title: string
  cell: Cell
}

const check =
  (
    name: string,
    format: (v: unknown) => string = (v) => (v === null || v === undefined ? '–' : String(v)),
  ): Cell =>
  (r) =>
    format(r.checks[name])

const opsCol: Column = { title: 'ops/s', cell: (r) => fmtOps(r.opsPerSec) }
const rangeCol: Column = {
  title: 'ops/s range over runs',
  cell: (r) =>
    r.runs === undefined ? '–' : `${fmtOps(Math.min(...r.runs))} – ${fmtOps(Math.max(...r.runs))}`,
}
const p50Col: Column = { title: 'p50', cell: (r) => fmtMs(r.p50Ms) }
const p99Col: Column = { title: 'p99', cell: (r) => fmtMs(r.p99Ms) }
const maxCol: Column = { title: 'max', cell: (r) => fmtMs(r.maxMs) }
const errCol: Column = { title: 'errors thrown', cell: (r) => String(r.errors) }

/** Per scenario: its columns, and the headline figure the ratio to Strata is taken on. */
const layouts: Record<string, { columns: Column[]; headline: 'ops' | 'p99' | 'p50' | 'none' }> = {
  'l1-get': {
    headline: 'ops',
    columns: [
      opsCol,
      rangeCol,
      p50Col,
      p99Col,
      {
        title: 'misses / wrong values',
        cell: (r) => `${r.checks.missesDuringRun ?? 0} / ${r.checks.wrongValuesAfterSet ?? 0}`,
      },
    ],
  },
  'l1-get-or-set': {
    headline: 'ops',
    columns: [
      opsCol,
      rangeCol,
      p50Col,
      p99Col,
      {
        title: 'extra loader calls / wrong values',
        cell: (r) => `${r.checks.extraLoaderCalls ?? 0} / ${r.checks.wrongValues ?? 0}`,
      },
    ],
  },
  'l2-get': {
    headline: 'ops',
    columns: [
      opsCol,
      rangeCol,
      p50Col,
      p99Col,
      errCol,
      {
        title: 'misses of written keys / wrong values',
        cell: (r) => `${r.checks.missesOfWrittenKeys ?? r.checks.misses ?? 0} / ${r.checks.wrongValues ?? 0}`,
      },
      { title: 'written keys missing from Redis', cell: check('writesMissingFromRedis') },
    ],
  },
  'cold-get-or-set': {
    headline: 'ops',
    columns: [
      opsCol,
      rangeCol,
      p50Col,
      p99Col,
      errCol,
      {
        title: 'loader calls per call',
        cell: check('loaderCallsPerCall', (v) => (typeof v === 'number' ? v.toFixed(2) : '–')),
      },
      {
        title: 'not readable from another instance',
        cell: (r) =>
          `${r.checks.notReadableFromAnotherInstance ?? '–'}/${r.checks.sampledFromAnotherInstance ?? '–'}`,
      },
    ],
  },
  invalidation: {
    headline: 'p99',
    columns: [
      p50Col,
      p99Col,
      maxCol,
      {
        title: 'updates unseen by B within 1 s',
        cell: (r) => `${r.checks.unseenWithin1s ?? '–'} / ${r.ops ?? '–'}`,
      },
      { title: 'last version B read', cell: check('lastVersionSeenByB') },
      errCol,
    ],
  },
  stampede: {
    headline: 'none',
    columns: [
      { title: 'loader calls, 1 process', cell: check('loaderCallsOneProcess', fmtCount) },
      { title: 'loader calls, 2 processes', cell: check('loaderCallsTwoProcesses', fmtCount) },
      {
        title: 'distinct values (1 / 2 proc.)',
        cell: (r) =>
          `${r.checks.distinctValuesOneProcess ?? '–'} / ${r.checks.distinctValuesTwoProcesses ?? '–'}`,
      },
      p99Col,
      errCol,
    ],
  },
  outage: {
    headline: 'p99',
    columns: [
      { title: 'errors thrown during outage', cell: (r) => String(r.errors) },
      { title: 'p99 during outage', cell: (r) => fmtMs(r.p99Ms) },
      { title: 'max during outage', cell: (r) => fmtMs(r.maxMs) },
      { title: 'calls completed/s during outage', cell: (r) => fmtOps(r.opsPerSec) },
      {
        title: 'recovery after SIGCONT',
        cell: check('recoveredMs', (v) => (typeof v === 'number' ? fmtMs(v) : 'not within 10 s')),
      },
      { title: 'still pending at end', cell: check('stillPendingAtEnd') },
      { title: 'p99 before outage', cell: check('p99BeforeOutageMs', (v) => fmtMs(v as number)) },
    ],
  },
}

function fmtCount(v: unknown): string {
  return typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : '–'
}

function ratio(r: ScenarioResult, strata: ScenarioResult | undefined, headline: string): string {
  if (strata === undefined || r.failure) return '–'
  if (headline === 'ops' && r.opsPerSec && strata.opsPerSec)
    return `${(r.opsPerSec / strata.opsPerSec).toFixed(2)}×`
  if (headline === 'p99' && r.p99Ms !== undefined && strata.p99Ms)
    return `${(r.p99Ms / strata.p99Ms).toFixed(2)}×`
  return '–'
}

function labelOf(id: string, contenders: readonly Contender[]): string {
  if (id.startsWith('baseline:')) return `*${id.slice('baseline:'.length)}* (baseline)`
  const label = contenders.find((c) => c.id === id)?.label ?? id
  return references.has(id) ? `${label} (reference)` : label
}

export function renderReport(results: readonly ScenarioResult[], info: RunInfo): string {
  const out: string[] = []
  out.push('# Strata side by side with BentoCache, cacheable and cache-manager', '')
  out.push(
    `Generated by \`${info.command}\` on ${info.startedAt} in ${info.durationS.toFixed(0)} s; regenerate it rather than editing it. Raw figures: [results.json](./results.json).`,
    '',
  )
  out.push(
    'Every library ran against the same redis-server, started by the run on loopback, one library at a time, each scenario in a fresh Node process (Redis flushed in between). Baselines ran in the same run.',
    '',
  )
  out.push(
    "Sizes are the issue's (1,000 hot ~1 KB keys, 100 concurrent callers, 1,000 concurrent `getOrSet` with a 50 ms loader, a 3 s SIGSTOP). To keep the whole run near 5 minutes on 2 shared cores the measurement windows are short (1 s after a 0.3 s warm-up for L1, 40,000 keys for L2 reads after 5,000 warm-up reads, 1.5 s for cold `getOrSet` after 0.5 s of warm-up, 100 updates for invalidation, 3 rounds for the stampede, 20 callers for the outage); the throughput scenarios are repeated 3 times instead, and the variation shows in their ranges.",
    '',
  )
  out.push('## Machine', '')
  for (const [k, v] of Object.entries(info.machine)) out.push(`- ${k}: ${v}`)
  out.push('', '## Versions', '')
  for (const [k, v] of Object.entries(info.versions)) out.push(`- ${k}: ${v}`)
  out.push('', '## Setup of each library', '', '| library | configuration |', '|---|---|')
  for (const c of info.contenders) out.push(`| ${c.label} | \`${c.setup.replaceAll('|', '\\|')}\` |`)
  out.push('')

  out.push('## Summary', '')
  out.push(
    "Ratio columns: the library's figure divided by Strata's — throughput for the ops/s scenarios (below 1 = slower than Strata), p99 latency for invalidation and outage (above 1 = slower than Strata).",
    '',
  )
  // Variants (run in some scenarios only) appear in their scenarios' tables, not in the summary.
  const libs = info.contenders.filter((c) => onlyIn[c.id] === undefined)
  out.push(
    `| scenario | ${libs.map((c) => c.label).join(' | ')} |`,
    `|---|${libs.map(() => '---').join('|')}|`,
  )
  for (const s of info.scenarios) {
    const layout = layouts[s.id]!
    const strata = results.find((r) => r.scenario === s.id && r.library === 'strata')
    const cells = libs.map((c) => {
      const r = results.find((x) => x.scenario === s.id && x.library === c.id)
      if (r === undefined) return 'not run'
      if (r.failure) return 'failed'
      return summaryCell(s.id, r, strata, layout.headline)
    })
    out.push(`| ${s.title} | ${cells.join(' | ')} |`)
  }
  out.push('')

  out.push(...renderGoals(results))

  const behind = whereStrataIsNotAhead(results, info)
  out.push('## Where Strata is not ahead', '')
  if (behind.length === 0) out.push('Nowhere in this run.')
  for (const line of behind) out.push(`- ${line}`)
  out.push('')
  if (info.analysis !== undefined) out.push(info.analysis.trim(), '')

  for (const s of info.scenarios) {
    const layout = layouts[s.id]!
    out.push(`## ${s.title}`, '', s.description, '')
    if ((s.repeat ?? 1) > 1)
      out.push(
        `Run ${s.repeat} times per library, interleaved; the row is the median run by ops/s (correctness columns: the worst run).`,
        '',
      )
    const rows = results.filter((r) => r.scenario === s.id)
    const strata = rows.find((r) => r.library === 'strata')
    const withRatio = layout.headline !== 'none'
    const head = [
      'library',
      ...layout.columns.map((c) => c.title),
      ...(withRatio ? [`ratio to Strata (${layout.headline === 'ops' ? 'ops/s' : 'p99'})`] : []),
    ]
    out.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`)
    const ordered = [
      ...rows.filter((r) => !r.library.startsWith('baseline:')),
      ...rows.filter((r) => r.library.startsWith('baseline:')),
    ]
    for (const r of ordered) {
      if (r.failure) {
        out.push(
          `| ${labelOf(r.library, info.contenders)} | failed: ${r.failure.split('\n')[0]!.replaceAll('|', '\\|').slice(0, 160)} |`,
        )
        continue
      }
      const cells = layout.columns.map((c) => c.cell(r))
      out.push(
        `| ${[labelOf(r.library, info.contenders), ...cells, ...(withRatio ? [ratio(r, strata, layout.headline)] : [])].join(' | ')} |`,
      )
    }
    const notes = rows.flatMap((r) =>
      (r.notes ?? []).map((n) => `${labelOf(r.library, info.contenders)}: ${n}`),
    )
    const extra = rows.filter(
      (r) => (r.checks.unhandledRejections ?? 0) !== 0 || (r.checks.uncaughtExceptions ?? 0) !== 0,
    )
    for (const r of extra)
      notes.push(
        `${labelOf(r.library, info.contenders)}: ${r.checks.unhandledRejections} unhandled rejections, ${r.checks.uncaughtExceptions} uncaught exceptions in the process`,
      )
    if (notes.length > 0) {
      out.push('')
      for (const n of notes) out.push(`- ${n.replaceAll('\n', ' ')}`)
    }
    out.push('')
  }
  return out.join('\n')
}

function summaryCell(
  scenario: string,
  r: ScenarioResult,
  strata: ScenarioResult | undefined,
  headline: string,
): string {
  switch (scenario) {
    case 'invalidation':
      return `p99 ${fmtMs(r.p99Ms)}, ${r.checks.unseenWithin1s}/${r.ops} unseen (${ratio(r, strata, headline)})`
    case 'stampede':
      return `${fmtCount(r.checks.loaderCallsOneProcess)} / ${fmtCount(r.checks.loaderCallsTwoProcesses)} loader calls (1 / 2 processes)`
    case 'outage':
      return `${r.errors} errors, p99 ${fmtMs(r.p99Ms)}, recovered ${typeof r.checks.recoveredMs === 'number' ? `in ${fmtMs(r.checks.recoveredMs)}` : 'not within 10 s'}`
    default:
      return `${fmtOps(r.opsPerSec)} ops/s (${ratio(r, strata, headline)})`
  }
}

/** Every scenario and figure where another library did better than Strata in this run. */
export function whereStrataIsNotAhead(results: readonly ScenarioResult[], info: RunInfo): string[] {
  const lines: string[] = []
  const num = (r: ScenarioResult, name: string) =>
    typeof r.checks[name] === 'number' ? (r.checks[name] as number) : undefined
  for (const s of info.scenarios) {
    const strata = results.find((r) => r.scenario === s.id && r.library === 'strata')
    if (strata === undefined) continue
    if (strata.failure) {
      lines.push(`${s.title}: Strata's run failed (${strata.failure.split('\n')[0]})`)
      continue
    }
    for (const r of results) {
      // Strata's own variants, baselines and the references are not peers it must beat.
      if (r.scenario !== s.id || !isPeer(r.library) || r.failure) continue
      const label = labelOf(r.library, info.contenders)
      const better: string[] = []
      switch (s.id) {
        case 'invalidation':
          if ((num(r, 'unseenWithin1s') ?? 0) <= (num(strata, 'unseenWithin1s') ?? 0)) {
            if (r.p50Ms !== undefined && strata.p50Ms !== undefined && r.p50Ms < strata.p50Ms)
              better.push(`p50 ${fmtMs(r.p50Ms)} vs ${fmtMs(strata.p50Ms)}`)
            if (r.p99Ms !== undefined && strata.p99Ms !== undefined && r.p99Ms < strata.p99Ms)
              better.push(`p99 ${fmtMs(r.p99Ms)} vs ${fmtMs(strata.p99Ms)}`)
          }
          break
        case 'stampede':
          if ((num(r, 'loaderCallsTwoProcesses') ?? 0) < (num(strata, 'loaderCallsTwoProcesses') ?? 0))
            better.push(
              `${fmtCount(num(r, 'loaderCallsTwoProcesses'))} loader calls across two processes vs ${fmtCount(num(strata, 'loaderCallsTwoProcesses'))} (Strata's default lock: false; with lock: true see its row)`,
            )
          if ((num(r, 'loaderCallsOneProcess') ?? 0) < (num(strata, 'loaderCallsOneProcess') ?? 0))
            better.push(`${fmtCount(num(r, 'loaderCallsOneProcess'))} loader calls in one process`)
          if (r.p99Ms !== undefined && strata.p99Ms !== undefined && r.p99Ms < strata.p99Ms)
            better.push(`p99 ${fmtMs(r.p99Ms)} vs ${fmtMs(strata.p99Ms)}`)
          break
        case 'outage': {
          if (r.errors < strata.errors) better.push(`${r.errors} errors vs ${strata.errors}`)
          if (r.p99Ms !== undefined && strata.p99Ms !== undefined && r.p99Ms < strata.p99Ms)
            better.push(`p99 during the outage ${fmtMs(r.p99Ms)} vs ${fmtMs(strata.p99Ms)}`)
          const rec = num(r, 'recoveredMs')
          const srec = num(strata, 'recoveredMs')
          if (rec !== undefined && (srec === undefined || rec < srec))
            better.push(`recovery ${fmtMs(rec)} vs ${srec === undefined ? 'none within 10 s' : fmtMs(srec)}`)
          const before = num(r, 'p99BeforeOutageMs')
          const sbefore = num(strata, 'p99BeforeOutageMs')
          if (before !== undefined && sbefore !== undefined && before < sbefore)
            better.push(`p99 before the outage ${fmtMs(before)} vs ${fmtMs(sbefore)}`)
          break
        }
        default:
          if ((r.opsPerSec ?? 0) > (strata.opsPerSec ?? 0)) {
            // Speed bought with wrong answers is named with it.
            const worse = worseChecks(r, strata)
            if (worse.length > 0) {
              lines.push(
                `${s.title} — ${label}: ${fmtOps(r.opsPerSec)} ops/s vs ${fmtOps(strata.opsPerSec)}, but with ${worse.join(', ')}`,
              )
              continue
            }
          }
          if ((r.opsPerSec ?? 0) > (strata.opsPerSec ?? 0))
            better.push(
              `${fmtOps(r.opsPerSec)} ops/s vs ${fmtOps(strata.opsPerSec)} (${((r.opsPerSec ?? 0) / (strata.opsPerSec ?? 1)).toFixed(2)}×)`,
            )
          else if (r.p99Ms !== undefined && strata.p99Ms !== undefined && r.p99Ms < strata.p99Ms)
            better.push(`p99 ${fmtMs(r.p99Ms)} vs ${fmtMs(strata.p99Ms)} (Strata has the higher throughput)`)
      }
      if (better.length > 0) lines.push(`${s.title} — ${label}: ${better.join('; ')}`)
    }
  }
  return lines
}
