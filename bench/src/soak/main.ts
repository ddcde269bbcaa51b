/**
 * `pnpm soak [--duration 2m] [--seed N] [--rate 150] [--propagation-window 100ms] [--dry]`: one
 * redis-server, a fault proxy and three analytics pods on loopback sharing one SQLite file; a seeded
 * mixed load and a seeded fault driver for the duration; then a checker that counts stale reads,
 * errors and lost writes in steady state and in fault windows, per pod. Prints the seed and the
 * summary, appends it to bench/SOAK.md (unless --dry), stops every process it started by pid (also
 * on SIGINT), and exits 1 on a steady-state stale read (older than the propagation window after the
 * missed write's ack), a lost write or a pod still behind the database after the run.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { sleep } from '@strata-cache/test-suite/testing'
import Database from 'better-sqlite3'
import { check, failed, missedWrite } from './checker.ts'
import { type SoakCluster, startCluster } from './cluster.ts'
import { FaultDetector } from './detector.ts'
import { FaultDriver, type FaultWindow } from './faults.ts'
import { type L2Snapshot, probeMetric } from './l2-probe.ts'
import { LoadGenerator } from './load.ts'
import { parseSoakArgs, type SoakOptions } from './options.ts'
import { Prng } from './prng.ts'
import {
  appendToSoakFile,
  faultStaleSplit,
  figuresTable,
  parsePodLog,
  propagationLines,
  type RunInfo,
  runSection,
  steadyStaleLines,
} from './report.ts'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SOAK_FILE = join(ROOT, 'bench', 'SOAK.md')
/** Past the duration, starting and stopping everything gets this long before the run gives up. */
const OVERRUN_MS = 4 * 60_000

const say = (line = '') => process.stdout.write(`${line}\n`)

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim()
  } catch {
    return ''
  }
}

/** Names the state of packages/ the pods run: a hash of the diff from HEAD and of untracked files. */
function workingTreeId(): string {
  const hash = createHash('sha256')
  hash.update(git(['diff', 'HEAD', '--', 'packages']))
  for (const file of git(['ls-files', '--others', '--exclude-standard', '--', 'packages']).split('\n')) {
    if (file === '') continue
    hash.update(file)
    hash.update(readFileSync(join(ROOT, file)))
  }
  return hash.digest('hex').slice(0, 10)
}

function commandLine(options: SoakOptions): string {
  const given = process.argv.slice(2).filter((arg) => arg !== '--')
  const hasSeed = given.some((arg) => arg === '--seed' || arg.startsWith('--seed='))
  return ['pnpm soak', ...given, ...(hasSeed ? [] : ['--seed', String(options.seed)])].join(' ')
}

/** Every soak event in the file: `metric:version`, and per metric the newest version and the count. */
function readDatabase(path: string): {
  committed: Set<string>
  truth: Map<string, { max: number; count: number }>
} {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    db.pragma('busy_timeout = 5000')
    const rows = db.prepare("SELECT metric, value FROM events WHERE workspace = 'soak'").all() as {
      metric: string
      value: number
    }[]
    const committed = new Set<string>()
    const truth = new Map<string, { max: number; count: number }>()
    for (const row of rows) {
      committed.add(`${row.metric}:${row.value}`)
      const entry = truth.get(row.metric) ?? { max: 0, count: 0 }
      entry.max = Math.max(entry.max, row.value)
      entry.count++
      truth.set(row.metric, entry)
    }
    return { committed, truth }
  } finally {
    db.close()
  }
}

/** Waits until the pods' bus subscribers are all connected; resolves how many there are. */
async function subscriberBaseline(cluster: SoakCluster): Promise<number> {
  let last = -1
  let stableSince = Date.now()
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const seen = (await cluster.pubsubClients()) ?? 0
    if (seen !== last) {
      last = seen
      stableSince = Date.now()
    } else if (seen >= cluster.pods.length && Date.now() - stableSince > 1_000) return seen
    await sleep(100)
  }
  throw new Error(`expected a bus subscriber per pod, saw ${last}`)
}

async function main(): Promise<number> {
  const options = parseSoakArgs(process.argv.slice(2))
  const command = commandLine(options)
  say(`soak: seed ${options.seed}  (${command})`)
  const startedAt = new Date()
  // The pods load packages/ from the working tree when they start: name the state they run.
  const treeId = workingTreeId()
  const cluster = await startCluster(options.degradedL1TtlMs)
  say(
    `redis pid ${cluster.redis.pid} on ${cluster.redis.port}; proxy ${cluster.proxy.port}; ` +
      cluster.pods.map((p) => `pod ${p.name} pid ${p.child.pid} ${p.url}`).join('; '),
  )

  let t0 = performance.now()
  const clock = () => performance.now() - t0
  let interrupted = false
  let faults: FaultDriver | undefined
  let detector: FaultDetector | undefined
  let load: LoadGenerator | undefined
  let wakeMain: (() => void) | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return
    interrupted = true
    say(`\nsoak: ${signal}, stopping everything it started`)
    faults?.abort()
    wakeMain?.()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const overrun = setTimeout(() => {
    say(`soak: still running ${OVERRUN_MS / 60_000} min past its duration, stopping`)
    onSignal('SIGTERM')
  }, options.durationMs + OVERRUN_MS)

  let keepDir = false
  try {
    const subscribers = await subscriberBaseline(cluster)
    const unsettled = await cluster.podsUnsettled()
    if (unsettled !== undefined) throw new Error(`the pods are not ready before the load: ${unsettled}`)
    const targets = cluster.pods.map((pod) => ({ name: pod.name, url: pod.url }))
    load = new LoadGenerator(targets, new Prng(options.seed ^ 0x5eed), options, clock)
    faults = new FaultDriver(
      cluster,
      new Prng(options.seed),
      {
        quietMs: options.quietMs,
        faultMs: options.faultMs,
        settleMs: options.degradedL1TtlMs,
        subscribers,
      },
      clock,
      (line) => say(`  ${line}`),
    )
    detector = new FaultDetector(
      cluster,
      options.degradedL1TtlMs,
      clock,
      () => faults?.active !== false,
      (line) => say(`  ${line}`),
    )
    // A stale answer in steady state: read what Redis holds for the metric at once (bounded).
    const snapshots: L2Snapshot[] = []
    const lastProbe = new Map<string, number>()
    load.onStale = (read, user) => {
      if (faults?.active !== false || detector?.active !== false || snapshots.length >= 30) return
      // Within the propagation window of the missed write's ack: bus lag, not worth a probe.
      const missed = missedWrite(
        read,
        load!.writes.filter((w) => w.metric === read.metric),
      )
      if (missed !== undefined && read.start - missed.end <= options.propagationWindowMs) return
      if (clock() - (lastProbe.get(read.metric) ?? -Infinity) < 2_000) return
      lastProbe.set(read.metric, clock())
      const at = clock()
      cluster
        .withAdmin((command) => probeMetric(command, read.metric, user, at))
        .then(
          (snapshot) => snapshots.push(snapshot),
          (error: unknown) =>
            say(`  probe of ${read.metric} at ${(at / 1000).toFixed(2)} s failed: ${String(error)}`),
        )
    }
    say(
      `load: ${options.rate} req/s, ${Math.round(options.writeShare * 100)} % writes, ${options.keys} metrics, ${options.durationMs / 1000} s; ${subscribers} bus subscribers; propagation window ${options.propagationWindowMs} ms (a stale read outside fault windows sent within it after the missed write's ack is propagation lag, not failed)`,
    )
    t0 = performance.now()
    const epochMs = Date.now()
    load.start()
    detector.start()
    const faultRun = faults.run(options.durationMs - options.quietMs[0])
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.durationMs)
      wakeMain = () => {
        clearTimeout(timer)
        resolve()
      }
      if (interrupted) wakeMain()
    })
    faults.abort()
    await faultRun
    await load.stop()
    const runMs = clock()
    await detector.stop()
    if (interrupted) return 130
    // Injected windows first: a read overlapping both is counted in the injected one.
    const windows: FaultWindow[] = [
      ...faults.windows,
      ...detector.windows(
        cluster.proxy.stalls.filter((x) => x.at - epochMs < runMs),
        epochMs,
      ),
    ]

    await sleep(options.degradedL1TtlMs + 500)
    const before = readDatabase(cluster.dbPath)
    await load.sweep((metric) => before.truth.get(metric) ?? { max: 0, count: 0 })
    const { committed } = readDatabase(cluster.dbPath)
    const podNames = cluster.pods.map((pod) => pod.name)
    const verdict = check(
      podNames,
      load.reads,
      load.writes,
      windows,
      committed,
      runMs,
      options.propagationWindowMs,
    )
    const dead = cluster.pods.filter((pod) => !pod.child.running())
    const pass = !failed(verdict, windows) && dead.length === 0
    keepDir = !pass

    const info: RunInfo = {
      command,
      startedAt,
      runMs,
      commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
      dirtyPackages: git(['status', '--porcelain', '--', 'packages']).split('\n').filter(Boolean).length,
      treeId: workingTreeId() === treeId ? treeId : `${treeId}, changed during the run`,
      options,
      windows,
      detectorRounds: detector.rounds,
      detectorLongestMs: detector.longestRoundMs,
      reads: load.reads,
      writes: load.writes,
      skipped: load.skipped,
      subscribers,
      epochMs,
      stalls: load.stalls,
      proxyStalls: cluster.proxy.stalls.map((x) => ({ at: x.at - epochMs, ms: x.ms })),
      snapshots,
      podLogs: cluster.pods
        .flatMap((pod) => parsePodLog(pod.name, pod.child.output(), epochMs))
        .sort((a, b) => a.t - b.t),
      keptDir: keepDir ? cluster.dir : undefined,
    }
    say()
    say(figuresTable(verdict))
    say()
    say(propagationLines(verdict).join('\n'))
    if (verdict.staleSteady.length > 0)
      say(steadyStaleLines(verdict.staleSteady, info, options.propagationWindowMs).join('\n'))
    for (const pod of dead) say(`pod ${pod.name} exited during the run:\n${pod.child.output().slice(-2_000)}`)
    const section = runSection(info, verdict, pass)
    if (options.dry) say(section)
    else {
      appendToSoakFile(SOAK_FILE, section)
      say(`appended the run to ${SOAK_FILE}`)
    }
    if (keepDir) {
      writeFileSync(
        join(cluster.dir, 'records.json'),
        JSON.stringify({
          options,
          epochMs,
          stalls: load.stalls,
          proxyStalls: cluster.proxy.stalls,
          snapshots,
          windows,
          writes: load.writes,
          reads: load.reads,
        }),
      )
    }
    const split = faultStaleSplit(verdict)
    say(
      `\nsoak: seed ${options.seed}: ${pass ? 'PASS' : 'FAIL'}: ${verdict.total.steady.stale} steady-state stale reads, ${verdict.total.steady.propagation} propagation-lag reads (within ${options.propagationWindowMs} ms), ${verdict.total.fault.stale} in fault windows (${split.injected} injected, ${split.detected} detected in ${windows.length - faults.windows.length} windows), ${verdict.total.steady.readErrors + verdict.total.fault.readErrors + verdict.total.steady.writeErrors + verdict.total.fault.writeErrors} errors, ${verdict.lost.length} lost writes, ${verdict.sweep.behind.length} behind after the run`,
    )
    return pass ? 0 : 1
  } finally {
    clearTimeout(overrun)
    faults?.abort()
    await detector?.stop()
    await load?.stop()
    await cluster.stop(keepDir)
    if (keepDir) {
      for (const pod of cluster.pods)
        writeFileSync(join(cluster.dir, `pod-${pod.name}.log`), pod.child.output())
      say(`kept the database, pod logs and records in ${cluster.dir}`)
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    process.exit(2)
  },
)
