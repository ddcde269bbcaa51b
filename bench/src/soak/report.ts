import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { type PodFigures, percentile, type SoakVerdict, type StaleRead } from './checker.ts'
import { FAULT_KINDS, FAULT_MEANING, type FaultWindow } from './faults.ts'
import { describeSnapshot, inItsTagSets, type L2Snapshot } from './l2-probe.ts'
import type { ReadRecord, WriteRecord } from './load.ts'
import type { SoakOptions } from './options.ts'

/** What the report says about the run besides the verdict. */
export interface RunInfo {
  command: string
  startedAt: Date
  runMs: number
  commit: string
  /** Files under packages/ that differ from HEAD (the pods run the working tree). */
  dirtyPackages: number
  /** Hash of the uncommitted state of packages/, to tell runs on the same code apart. */
  treeId: string
  options: SoakOptions
  /** Injected and detected fault windows. */
  windows: readonly FaultWindow[]
  /** How many times the detector read every pod's metrics, and its slowest round (ms). */
  detectorRounds: number
  detectorLongestMs: number
  reads: readonly ReadRecord[]
  writes: readonly WriteRecord[]
  skipped: number
  subscribers: number
  /** Date.now() at the run clock's zero: pod logs carry epoch ms. */
  epochMs: number
  /** The soak process's own event-loop stalls of 100 ms or more. */
  stalls: readonly { at: number; ms: number }[]
  /** The fault proxy process's stalls of 100 ms or more, on the run clock: pod A's bytes waited. */
  proxyStalls: readonly { at: number; ms: number }[]
  /** The pods' warnings (cache errors, breaker changes), on the run clock. */
  podLogs: readonly PodLogLine[]
  /** What Redis held for a metric just after a steady-state stale read of it. */
  snapshots: readonly L2Snapshot[]
  /** Where the run's database, pod logs and records were kept (failures only). */
  keptDir: string | undefined
}

/** One line a pod logged, on the run clock. */
export interface PodLogLine {
  pod: string
  t: number
  text: string
}

/** Reads a pod's pino JSON lines (warnings and up) into run-clock lines. */
export function parsePodLog(pod: string, output: string, epochMs: number): PodLogLine[] {
  const lines: PodLogLine[] = []
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const entry = JSON.parse(line) as {
        time: number
        msg?: string
        operation?: string
        state?: string
        err?: { message?: string }
      }
      const parts = [entry.msg, entry.operation, entry.state, entry.err?.message?.slice(0, 120)]
      lines.push({ pod, t: entry.time - epochMs, text: parts.filter(Boolean).join(' ') })
    } catch {
      // Not a log line.
    }
  }
  return lines
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`

function podLabel(pod: string): string {
  return pod === 'A' ? 'A (via proxy)' : pod
}

/** The per-pod table, markdown (also readable as text). */
export function figuresTable(verdict: SoakVerdict): string {
  const rows = [
    '| pod | reads, steady | stale, steady | propagation lag, steady | errors, steady | reads, fault | stale, fault | errors, fault | writes acked | write errors | lost writes |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  const row = (f: PodFigures, label: string) =>
    `| ${label} | ${f.steady.reads} | ${f.steady.stale} | ${f.steady.propagation} | ${f.steady.readErrors} | ${f.fault.reads} | ${f.fault.stale} | ${f.fault.readErrors} | ${f.steady.writesAcked + f.fault.writesAcked} | ${f.steady.writeErrors + f.fault.writeErrors} | ${f.lostWrites} |`
  for (const f of verdict.pods) rows.push(row(f, podLabel(f.pod)))
  rows.push(row(verdict.total, '**all**'))
  return rows.join('\n')
}

function windowsTable(info: RunInfo, verdict: SoakVerdict): string {
  const rows = [
    '| # | fault | start | drawn length | Redis back after | pods back after | window end | stale reads in the window |',
    // Detected windows (D1, …): "drawn length" is when the poll saw it (or the proxy's stall), "pods back after" counts from then.
    '|---:|---|---:|---:|---:|---:|---:|---|',
  ]
  for (const w of [...info.windows].sort((a, b) => a.start - b.start)) {
    const stale = verdict.perWindow.get(w.index)
    const text =
      stale === undefined
        ? '0'
        : Object.entries(stale)
            .sort()
            .map(([pod, n]) => `${pod}: ${n}`)
            .join(', ')
    if (w.kind === 'detected') {
      const stall = w.cause?.startsWith('fault proxy') === true
      rows.push(
        `| ${w.index} | detected: ${w.cause}${w.note === undefined ? '' : ` (${w.note})`} | ${s(w.start)} | ${stall ? `${Math.round(w.actionEnd - w.start)} ms stall` : `seen ${s(w.actionEnd)}`} | - | ${stall ? '-' : `${Math.round(w.recovered - w.actionEnd)} ms`} | ${s(w.end)} | ${text} |`,
      )
      continue
    }
    rows.push(
      `| ${w.index} | ${w.kind}${w.note === undefined ? '' : ` (${w.note})`} | ${s(w.start)} | ${w.plannedMs} ms | ${Math.round(w.redisBack - w.actionEnd)} ms | ${Math.round(w.recovered - w.actionEnd)} ms | ${s(w.end)} | ${text} |`,
    )
  }
  return rows.join('\n')
}

/** A steady-state stale read with the writes, reads and fault around it: enough to reproduce it. */
export function timeline(stale: StaleRead, info: RunInfo): string {
  const { read, missed, previous } = stale
  const lines = [
    `seed ${info.options.seed} (run clock 0 = epoch ${info.epochMs} ms): pod ${read.pod}, ${read.metric} (${read.variant}) sent ${s(read.start)}, answered ${s(read.end)}, x-cache ${read.cache ?? '-'}: version ${read.version} (count ${read.count}), expected >= ${read.expected} (count ${read.expectedCount})`,
  ]
  if (missed !== undefined) {
    lines.push(
      `  missed write: version ${missed.version} through pod ${missed.pod}, sent ${s(missed.start)}, acked ${s(missed.end)} (${s(stale.ageMs)} before the read)`,
    )
  }
  if (previous !== undefined) {
    lines.push(
      `  previous fault: ${windowLabel(previous)} ${s(previous.start)} to ${s(previous.actionEnd)}, Redis back ${s(previous.redisBack)}, pods back ${s(previous.recovered)}, window ended ${s(previous.end)} (${s(read.start - previous.end)} before the read)`,
    )
  } else lines.push('  no fault before it')
  const from = (missed?.start ?? read.start) - 1_000
  const to = read.end + 1_000
  const events: [number, string][] = []
  for (const w of info.writes) {
    if (w.metric === read.metric && w.start >= from && w.start <= to) {
      events.push([
        w.start,
        `write v${w.version} via ${w.pod}: sent ${s(w.start)}, ${w.acked ? 'acked' : `failed (${w.status || w.error})`} ${s(w.end)}`,
      ])
    }
  }
  for (const r of info.reads) {
    if (r.metric === read.metric && r.variant === read.variant && r.start >= from && r.start <= to) {
      events.push([
        r.start,
        `read on ${r.pod}: sent ${s(r.start)}, ${r.version === undefined ? `error ${r.status || r.error}` : `v${r.version} (x-cache ${r.cache})`}${r === read ? '   <== this one' : ''}`,
      ])
    }
  }
  for (const w of info.windows) {
    if (w.kind !== 'detected' || w.end < from || w.start > to) continue
    events.push([
      w.start,
      `detected window ${w.index} from ${s(w.start)}${w.cause?.startsWith('fault proxy') === true ? '' : ` (seen ${s(w.actionEnd)}, pods back ${s(w.recovered)})`} to ${s(w.end)}: ${w.cause}${w.note === undefined ? '' : ` (${w.note})`}`,
    ])
  }
  for (const stall of info.stalls) {
    if (stall.at >= from && stall.at <= to) {
      events.push([
        stall.at,
        `soak process stalled ${Math.round(stall.ms)} ms from ${s(stall.at)} (the load paused)`,
      ])
    }
  }
  for (const stall of info.proxyStalls) {
    if (stall.at + stall.ms >= from && stall.at <= to) {
      events.push([
        stall.at,
        `fault proxy stalled ${Math.round(stall.ms)} ms from ${s(stall.at)} (pod A's Redis bytes, bus messages included, waited; no fault injected)`,
      ])
    }
  }
  // Pods' warnings, consecutive repeats folded.
  let last: { text: string; count: number; entry: [number, string] } | undefined
  for (const log of info.podLogs) {
    if (log.t < from || log.t > to) continue
    const text = `pod ${log.pod} logged: ${log.text}`
    if (last !== undefined && last.text === text) {
      last.count++
      last.entry[1] = `${text} (x${last.count}, last ${s(log.t)})`
      continue
    }
    const entry: [number, string] = [log.t, `${text} at ${s(log.t)}`]
    events.push(entry)
    last = { text, count: 1, entry }
  }
  events.sort((a, b) => a[0] - b[0])
  const shown = events.slice(0, 30)
  const snapshot = info.snapshots.find(
    (x) => x.metric === read.metric && x.at >= read.end - 1 && x.at <= read.end + 3_000,
  )
  if (snapshot !== undefined)
    for (const line of describeSnapshot(snapshot, info.epochMs)) lines.push(`  ${line}`)
  lines.push(`  ${read.metric} (${read.variant}) from ${s(from)} to ${s(to)}:`)
  for (const [, text] of shown) lines.push(`    ${text}`)
  if (events.length > shown.length) lines.push(`    ... ${events.length - shown.length} more`)
  return lines.join('\n')
}

function faultCounts(windows: readonly FaultWindow[]): string {
  return FAULT_KINDS.map((kind) => `${kind} ${windows.filter((w) => w.kind === kind).length}`).join(', ')
}

/** `#3 redis-pause` for an injected window, `D2 detected` for a detected one. */
export function windowLabel(w: FaultWindow): string {
  return w.kind === 'detected' ? `${w.index} detected (${w.cause})` : `#${w.index} ${w.kind}`
}

/** A detected window's cause in one word: the pods' own gauges, or a stall of the fault proxy. */
function detectedKind(w: FaultWindow): string {
  return w.cause?.startsWith('fault proxy') === true ? 'detected: proxy stall' : 'detected: pod gauges'
}

/** Stale reads in fault windows, injected and detected apart. */
export function faultStaleSplit(verdict: SoakVerdict): { injected: number; detected: number } {
  const detected = verdict.staleFault.filter((x) => x.window!.kind === 'detected').length
  return { injected: verdict.staleFault.length - detected, detected }
}

function staleFaultSummary(verdict: SoakVerdict): string {
  if (verdict.staleFault.length === 0) return 'Stale reads inside fault windows: none.'
  const byKind = new Map<string, { n: number; maxAge: number }>()
  for (const stale of verdict.staleFault) {
    const kind = stale.window!.kind === 'detected' ? detectedKind(stale.window!) : stale.window!.kind
    const entry = byKind.get(kind) ?? { n: 0, maxAge: 0 }
    entry.n++
    entry.maxAge = Math.max(entry.maxAge, stale.ageMs)
    byKind.set(kind, entry)
  }
  const parts = [...byKind].map(([kind, e]) => `${kind} ${e.n} (oldest ${s(e.maxAge)} behind)`)
  const { injected, detected } = faultStaleSplit(verdict)
  return `Stale reads inside fault windows: ${injected} in injected windows, ${detected} in detected ones; by fault (how long after the missed write's ack): ${parts.join(', ')}.`
}

/** The writer's own L2 failures (timeouts, open breaker) logged while the missed write was in flight. */
export function writerL2Errors(stale: StaleRead, info: RunInfo): string[] {
  const { missed } = stale
  if (missed === undefined) return []
  return info.podLogs
    .filter(
      (log) =>
        log.pod === missed.pod &&
        log.t >= missed.start &&
        log.t <= missed.end + 5 &&
        /no answer within|circuit open|connection/.test(log.text),
    )
    .map((log) => log.text)
}

/** The fault proxy's stalls between the missed write being sent and the read's answer. */
export function proxyStallsDuring(stale: StaleRead, info: RunInfo): { at: number; ms: number }[] {
  const from = stale.missed?.start ?? stale.read.start
  return info.proxyStalls.filter((x) => x.at + x.ms >= from && x.at <= stale.read.end)
}

/** What Redis held, just after the first stale read of a group, for the aggregates that were behind. */
function probeSummary(stale: StaleRead, info: RunInfo): string {
  const { read } = stale
  const snapshot = info.snapshots.find(
    (x) => x.metric === read.metric && x.at >= read.end - 1 && x.at <= read.end + 3_000,
  )
  if (snapshot === undefined) return '-'
  const behind = snapshot.entries.filter((e) => (e.version ?? 0) < read.expected)
  if (behind.length === 0) return `no entry behind (${snapshot.entries.length} entries)`
  return behind
    .map((e) => {
      const written = e.createdAt === undefined ? '?' : s(e.createdAt - info.epochMs)
      const sets = inItsTagSets(e) ? 'in its tag sets' : '**not in its tag sets**'
      return `${e.filters} v${e.version} written ${written}, ${sets}`
    })
    .join('; ')
}

/**
 * Stale reads outside fault windows sent within the propagation window after the missed write's
 * ack: per pod how many, the largest and the p99 lag from that ack to the read's start, and the
 * largest few.
 */
export function propagationLines(verdict: SoakVerdict): string[] {
  const window = verdict.propagationWindowMs
  const reads = verdict.stalePropagation
  const head = `Propagation lag (stale reads outside fault windows sent at most ${window} ms after the missed write's acknowledgement; counted apart, not failed):`
  if (reads.length === 0) return [`${head} none.`, '']
  const byCount = reads.filter((x) => x.byCount).length
  const lines = [
    `${head} ${reads.length}${byCount === 0 ? '' : ` (${byCount} behind in count only)`}.`,
    '',
    '| pod | reads | max lag | p99 lag | answered from a cache tier (x-cache hit) |',
    '|---|---:|---:|---:|---:|',
  ]
  const pods = [...new Set(verdict.pods.map((f) => f.pod))]
  const row = (label: string, list: readonly StaleRead[]) => {
    const lags = list.map((x) => x.ageMs)
    const max = lags.length === 0 ? '-' : `${Math.round(Math.max(...lags))} ms`
    const p99 = lags.length === 0 ? '-' : `${Math.round(percentile(lags, 0.99))} ms`
    const hits = list.filter((x) => x.read.cache === 'hit').length
    return `| ${label} | ${list.length} | ${max} | ${p99} | ${hits} |`
  }
  for (const pod of pods)
    lines.push(
      row(
        podLabel(pod),
        reads.filter((x) => x.read.pod === pod),
      ),
    )
  lines.push(row('**all**', reads))
  lines.push('', 'The largest lags:', '')
  for (const x of [...reads].sort((a, b) => b.ageMs - a.ageMs).slice(0, 5)) {
    const m = x.missed
    lines.push(
      `- pod ${x.read.pod}, ${x.read.metric} (${x.read.variant}) sent ${s(x.read.start)}, x-cache ${x.read.cache ?? '-'}: v${x.read.version}, missed v${m?.version ?? '?'} written through pod ${m?.pod ?? '?'} and acked ${m === undefined ? '?' : s(m.end)}, ${Math.round(x.ageMs)} ms before`,
    )
  }
  lines.push('')
  return lines
}

/** Steady-state stale reads grouped by the write they missed, and the timeline of the first few. */
export function steadyStaleLines(
  stale: readonly StaleRead[],
  info: RunInfo,
  propagationWindowMs: number,
): string[] {
  if (stale.length === 0)
    return [
      `Steady-state stale reads (more than ${propagationWindowMs} ms after the missed write's acknowledgement): none.`,
      '',
    ]
  const groups = new Map<WriteRecord | undefined, StaleRead[]>()
  const byStart = [...stale].sort((a, b) => a.read.start - b.read.start)
  for (const entry of byStart) groups.set(entry.missed, [...(groups.get(entry.missed) ?? []), entry])
  const afterL2Error = stale.filter((x) => writerL2Errors(x, info).length > 0).length
  const proxyStalled = stale.filter((x) => proxyStallsDuring(x, info).length > 0).length
  const lines = [
    `Steady-state stale reads (more than ${propagationWindowMs} ms after the missed write's acknowledgement): ${stale.length}, behind ${groups.size} acknowledged write(s); for ${afterL2Error} the writing pod logged an L2 failure (command timeout, open breaker) while the write was in flight, with no fault injected; for ${proxyStalled} the fault proxy (pod A's path to Redis) stalled 100 ms or more between the write being sent and the read's answer.`,
    '',
    '| missed write | acked | stale reads | pods | first to last stale read | longest behind | writer logged | Redis just after the first |',
    '|---|---:|---:|---|---|---:|---|---|',
  ]
  for (const [missed, reads] of groups) {
    const first = reads[0]!
    const pods = [...new Set(reads.map((x) => x.read.pod))].sort().join(' ')
    const variants = [...new Set(reads.map((x) => x.read.variant))].sort().join(', ')
    const l2 = writerL2Errors(first, info)[0]?.slice(0, 80) ?? '-'
    lines.push(
      `| ${first.read.metric} v${missed?.version ?? '?'} via ${missed?.pod ?? '?'} (${variants}) | ${missed === undefined ? '?' : s(missed.end)} | ${reads.length} | ${pods} | ${s(first.read.start)} to ${s(reads.at(-1)!.read.start)} | ${s(Math.max(...reads.map((x) => x.ageMs)))} | ${l2} | ${probeSummary(first, info)} |`,
    )
  }
  lines.push('', 'The first stale read behind each of the first three writes:', '', '```')
  for (const reads of [...groups.values()].slice(0, 3)) lines.push(timeline(reads[0]!, info), '')
  lines.push('```', '')
  return lines
}

/** The run section of bench/SOAK.md. */
export function runSection(info: RunInfo, verdict: SoakVerdict, pass: boolean): string {
  const { options } = info
  const injectedWindows = info.windows.filter((w) => w.kind !== 'detected')
  const detectedWindows = info.windows.filter((w) => w.kind === 'detected')
  const lines = [
    `### ${info.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, seed ${options.seed}: ${pass ? 'pass' : '**FAIL**'}`,
    '',
    `\`${info.command}\` on ${info.commit}${info.dirtyPackages > 0 ? ` plus ${info.dirtyPackages} uncommitted file(s) under packages/ (state ${info.treeId}; the pods run the working tree)` : ''}.`,
    `${s(info.runMs)} of load at ${options.rate} requests/s (${Math.round(options.writeShare * 100)} % writes) over ${options.keys} metrics; degradedL1Ttl and settle margin ${options.degradedL1TtlMs} ms; propagation window ${options.propagationWindowMs} ms; ${info.skipped} ticks skipped (in-flight bound); the soak process stalled ${info.stalls.length} time(s) for 100 ms or more${info.stalls.length === 0 ? '' : ` (longest ${Math.round(Math.max(...info.stalls.map((x) => x.ms)))} ms)`}, the fault proxy ${info.proxyStalls.length} time(s)${info.proxyStalls.length === 0 ? '' : ` (longest ${Math.round(Math.max(...info.proxyStalls.map((x) => x.ms)))} ms)`}; load average at the end ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}.`,
    `Faults: ${injectedWindows.length} injected (${faultCounts(injectedWindows)}); ${detectedWindows.length} detected (${detectedWindows.filter((w) => !w.cause?.startsWith('fault proxy')).length} from the pods' gauges, ${detectedWindows.filter((w) => w.cause?.startsWith('fault proxy')).length} proxy stalls; the pods' metrics read ${info.detectorRounds} times, every ${Math.round(info.runMs / Math.max(1, info.detectorRounds))} ms on average, slowest round ${Math.round(info.detectorLongestMs)} ms); fault windows cover ${s(verdict.faultMs)} of the run, ${s(verdict.detectedMs)} of it in detected windows.`,
    '',
    figuresTable(verdict),
    '',
    `Final sweep (every metric, both variants, every pod, after the load): ${verdict.sweep.reads} reads, ${verdict.sweep.behind.length} behind the database, ${verdict.sweep.errors} errors. Writes not acknowledged but in the database: ${verdict.committedUnacked}.`,
    staleFaultSummary(verdict),
    '',
    windowsTable(info, verdict),
    '',
  ]
  lines.push(...propagationLines(verdict))
  lines.push(...steadyStaleLines(verdict.staleSteady, info, options.propagationWindowMs))
  if (verdict.lost.length > 0) {
    lines.push(
      `Lost writes: ${verdict.lost.map((w) => `${w.metric} v${w.version} via ${w.pod} acked ${s(w.end)}`).join('; ')}.`,
      '',
    )
  }
  for (const read of verdict.sweep.behind.slice(0, 10)) {
    lines.push(
      `Behind after the run: pod ${read.pod} ${read.metric} (${read.variant}) v${read.version}, database v${read.expected}, x-cache ${read.cache}.`,
    )
  }
  return lines.join('\n').trimEnd()
}

/** The top of bench/SOAK.md, written once: what runs, what is counted, what DESIGN.md allows. */
export function soakHeader(): string {
  return `# Soak: three pods, one Redis, faults

\`pnpm soak [--duration 2m] [--seed N] [--rate 150] [--write-share 0.05] [--keys 8] [--degraded-l1-ttl 1s] [--quiet 4s-8s] [--propagation-window 100ms] [--dry]\`
(\`bench/src/soak/\`; not part of \`pnpm test\`). Each run appends a section at the end; \`--dry\` only prints it.
Run it from a clean worktree of the commit to test (\`git worktree add /tmp/soak-head HEAD && cd /tmp/soak-head
&& pnpm install --frozen-lockfile --offline\`): the pods load \`packages/\` from the tree they start in.

## What runs

- One \`redis-server\` of its own on loopback, and three pods of \`apps/analytics\` started from the
  sources, sharing one SQLite file. Pod **A** reaches Redis through a TCP fault proxy (a process of
  its own); **B** and **C** directly. The pods run with \`CACHE_DEGRADED_L1_TTL\` set to
  \`--degraded-l1-ttl\` (1 s by default).
- A seeded load (\`--rate\` requests/s over the three pods, each pod chosen at random): reads
  \`GET /api/v1/analytics/soak-mN?timeframe=all\` and \`…&user=soak-uN\` (two cache entries per metric:
  the first tagged \`metric:\`, the second \`metric:\` and \`user:\`), and writes \`POST /api/v1/events\`
  with one event whose \`value\` is the metric's next version. A write commits to SQLite, then
  invalidates the metric's tags on every pod, then answers 202. An aggregate's \`max\` is the newest
  version it includes and \`count\` how many.
- A fault driver with its own generator from the same seed: a quiet period (\`--quiet\`), then one
  of the faults below for 1 to 3 s, drawn at random, one at a time:
${FAULT_KINDS.map((kind) => `  - \`${kind}\`: ${FAULT_MEANING[kind]}`).join('\n')}
- The soak process and the proxy process each record their own event-loop stalls of 100 ms or
  more (a stall of the proxy holds pod A's bytes, bus messages included, with no fault injected);
  each run's section counts them and the timelines show them.

## What is counted

- **Fault window**: from the start of a fault until Redis answers again, every pod's bus
  subscriber is back (\`CLIENT LIST TYPE pubsub\`), and every pod says on its metrics endpoint that
  its tiers are available, its breaker closed, its bus connected and no L2 repair pending (a pod
  whose own Redis connection is still reconnecting acknowledges writes whose invalidation waits for
  replay: the other pods cannot hear of them before), plus a settle margin equal to the pods'
  degradedL1Ttl. A request whose time in flight overlaps a window is counted in the fault columns;
  every other request is steady state.
- **Detected window** (\`D1\`, \`D2\`, …, labelled \`detected\` with its cause): a fault nobody
  injected, reported by the system itself. Every pod's metrics are read every 100 ms during the load;
  when a pod answers with its L2 breaker not closed, its L2 tier unavailable, its bus disconnected
  or a removal queued for replay since its last answer (\`cache_l2_repairs_total{outcome="queued"}\`
  up: L2 did not confirm it; \`cache_l2_repairs_pending\` alone is above 0 during every removal's
  round trip, so it only keeps a window open) and no injected window is open, a window opens at that pod's last normal
  answer (at most 1 s before the poll) and lasts until every pod answers normal, plus the settle
  margin. A stall of the fault proxy process (100 ms or more, pod A's bytes held) is a window from
  the stall's start to its end plus the margin. Same accounting as injected windows; a read
  overlapping both is counted in the injected one. DESIGN.md's "Partial faults" allows stale reads
  there: one pod lost Redis, and what it could not apply is applied when L2 is back.
- **Stale read**: a 2xx answer whose \`max\` is below the newest version acknowledged (202 received)
  before the request was sent, or whose \`count\` is below the number of writes acknowledged by then.
  Acknowledgement, not commit, is the reference: between the commit and the 202 the invalidation is
  still on its way, and the write's caller has not been told it is done. The **missed write** is the
  oldest write acknowledged before the read was sent with a version above the answer's \`max\` (for
  an answer behind only in \`count\`, two writes of a metric acknowledged out of order: the
  (count+1)-th acknowledged one, the newest it can be); the **lag** runs from its acknowledgement to
  the read being sent. Each stale read is counted in exactly one place:
  - its time in flight overlaps a fault window: **fault-window stale**, per fault and pod (reported,
    not failed; unchanged);
  - else its lag is at most \`--propagation-window\` (100 ms by default, printed at the start and in
    each run's section): **propagation lag**, per pod with its count, max and p99 lag (reported, not
    failed);
  - else: **steady-state stale**, which fails the run; grouped by missed write, with a timeline, the
    writer's logged L2 failures, the proxy's stalls, and what Redis held for the metric (probed at
    once, except for propagation-lag reads).
- **Why propagation lag is apart**: the tiered README documents it under "What does not hold":
  > **Propagation is asynchronous.** A write or invalidation returns only after Redis acknowledged
  > its PUBLISH (for a \`set\` under \`createCache\`, sent in one write with the SET and run after it),
  > and Redis puts the message on every subscriber's connection before acknowledging: a request the
  > caller sends to pod B afterwards finds the message ahead of it on B. A reader on B that was not
  > caused by the write (another client, at the same moment) can still see B's old L1 copy until the
  > message is processed. Measured on a shared 2-core machine: p50 1.4–2.8 ms, p99 8.5–16 ms (three
  > pods, 1,000 updates, includes two IPC hops of the test harness). Pods in the same process are
  > told synchronously.

  The soak's reads are sent after the 202, so they usually find the notice ahead of them, but not
  always: pod A's subscriber is one proxy process further (the message is not yet on A's connection
  when Redis acknowledges), and a pod on a loaded host can handle its HTTP request before the
  message already waiting on its subscriber connection. A read within the window shows that
  documented delay; an old copy served past it (6 to 12 times the measured p99) is no delivery delay,
  and fails the run.
- **Error**: a non-2xx answer, or no answer within 5 s. **Lost write**: a write acknowledged with
  202 whose event is not in the database file (read directly with better-sqlite3 after the load).
- **Final sweep**: after the load and one more settle margin, every metric in both variants on every
  pod, compared with the database itself.
- The run fails (exit 1) on any steady-state stale read, lost write, pod behind the database in the
  final sweep, or fault the pods are not back from within 20 s; errors, propagation-lag reads and
  fault-window stale reads are reported, not failed.

## What DESIGN.md allows during a fault

A pod that cannot hear the bus serves its own L1 for at most degradedL1Ttl, and drops L1 when the
bus reconnects or reports a gap. A pod notices a silent bus by its heartbeat (a ping every 1 s, a
drop when unanswered for 1 s), so a cut pod's answers can be about heartbeat + degradedL1Ttl behind.
When the writing pod cannot reach L2 (Redis paused or killed, or that pod cut off), its write is
still acknowledged: the invalidation is queued and replayed when its L2 is back. Until then the
other pods can go on reading the old value (from their L1, or from L2 that still holds it); that is
bounded by how long the writer's L2 stays away (its reconnect and breaker probe included), not by
degradedL1Ttl, which is why a window lasts until every pod reports its L2 back. L2 never goes back
in time: a write or a loader fill that reaches Redis late must not replace a newer entry or undo a
later invalidation. So stale reads are expected inside a fault window, and none once the window
(fault, recovery, and degradedL1Ttl) is over.

## Runs
`
}

/** Appends the section to bench/SOAK.md (writing the header first if the file is new). */
export function appendToSoakFile(path: string, section: string): void {
  const before = existsSync(path) ? readFileSync(path, 'utf8').trimEnd() : soakHeader().trimEnd()
  writeFileSync(path, `${before}\n\n${section}\n`)
}
