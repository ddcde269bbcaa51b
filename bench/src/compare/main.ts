/**
 * `pnpm bench:compare [--scenarios a,b] [--libs a,b] [--cluster] [--dry]`: starts its own
 * redis-server on loopback, runs every scenario for every library (each in a fresh process) plus the
 * baselines, writes bench/RESULTS.md and bench/results.json, and stops everything it started, by pid.
 * `--cluster` also starts a 3-master cluster and adds Strata on it (`strata-cluster`, L2-get and
 * cold getOrSet) next to the single node, in the same run.
 * `--dry` prints the report instead of writing the files (for partial runs). `--render` only rewrites
 * RESULTS.md from results.json (after editing analysis.md or the report layout); it measures nothing.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { type RedisCluster, startRedisCluster, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Cluster, Redis } from 'ioredis'
import { redisBenchmarkBaselines } from './baselines.ts'
import { contenders, onlyIn } from './contenders/index.ts'
import { forkTs, killAllChildren, waitExit } from './processes.ts'
import { renderReport } from './report.ts'
import { serve } from './rpc.ts'
import type { ScenarioResult } from './scenario.ts'
import { scenarios } from './scenarios/index.ts'

const RUN_LIMIT_MS = 9.5 * 60_000
const WORKER_LIMIT_MS = 90_000

function argList(name: string): string[] | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? undefined : (process.argv[i + 1] ?? '').split(',').filter(Boolean)
}
const pickedScenarios = argList('scenarios')
const pickedLibs = argList('libs')
const dry = process.argv.includes('--dry')
const withCluster = process.argv.includes('--cluster')

const benchDir = new URL('../../', import.meta.url)

if (process.argv.includes('--render')) {
  const saved = JSON.parse(readFileSync(new URL('results.json', benchDir), 'utf8')) as {
    startedAt: string
    durationS: number
    command?: string
    machine: Record<string, string>
    versions: Record<string, string>
    results: ScenarioResult[]
  }
  const ran = new Set(saved.results.map((r) => `${r.scenario}|${r.library}`))
  const report = renderReport(saved.results, {
    startedAt: saved.startedAt,
    durationS: saved.durationS,
    machine: saved.machine,
    versions: saved.versions,
    contenders: contenders.filter((c) => [...ran].some((k) => k.endsWith(`|${c.id}`))),
    scenarios: scenarios.filter((s) => [...ran].some((k) => k.startsWith(`${s.id}|`))),
    analysis: readAnalysis(),
    command: saved.command ?? 'pnpm bench:compare',
  })
  writeFileSync(new URL('RESULTS.md', benchDir), report)
  console.error('rewrote bench/RESULTS.md from bench/results.json')
  process.exit(0)
}

const started = Date.now()
const server = await startRedisServer({ ownServer: true })
const cluster: RedisCluster | undefined = withCluster ? await startRedisCluster() : undefined
const clusterEnv: Record<string, string> =
  cluster === undefined
    ? {}
    : { STRATA_BENCH_CLUSTER_NODES: cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',') }
let paused = false

let stopping = false

async function shutdown(): Promise<void> {
  stopping = true
  killAllChildren()
  if (paused) {
    try {
      server.resume()
    } catch {
      // Already gone.
    }
  }
  await server.stop()
  await cluster?.stop()
}

// Whatever happens, nothing this run started outlives it.
const runTimer = setTimeout(async () => {
  console.error(`bench:compare: over ${RUN_LIMIT_MS / 60_000} min, stopping`)
  await shutdown()
  process.exit(1)
}, RUN_LIMIT_MS)
runTimer.unref()
let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    interrupted = true
    await shutdown()
    process.exit(130)
  })
}

function log(text: string): void {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${text}\n`)
}

/** Runs `worker.ts <scenario> <library>` and collects what it reports (or why it failed). */
async function runWorker(scenario: string, library: string): Promise<ScenarioResult[]> {
  const child = forkTs('./worker.ts', [scenario, library], {
    STRATA_BENCH_REDIS_URL: server.url,
    ...clusterEnv,
  })
  const collected: ScenarioResult[] = []
  serve(child, {
    redis({ signal }: { signal: 'SIGSTOP' | 'SIGCONT' }) {
      if (signal === 'SIGSTOP') {
        server.pause()
        paused = true
      } else {
        server.resume()
        paused = false
      }
      return true
    },
    result(results: ScenarioResult[]) {
      collected.push(...results)
      return true
    },
  })
  const t = Date.now()
  const code = await waitExit(child, WORKER_LIMIT_MS)
  if (stopping) throw new Error('stopped')
  if (paused) {
    server.resume()
    paused = false
  }
  if (collected.length === 0) {
    collected.push({
      scenario,
      library,
      errors: 0,
      checks: {},
      failure:
        Date.now() - t >= WORKER_LIMIT_MS
          ? `no result within ${WORKER_LIMIT_MS / 1000} s (killed)`
          : `worker exited with code ${code} and no result`,
    })
  }
  return collected
}

function readAnalysis(): string | undefined {
  try {
    return readFileSync(new URL('./analysis.md', import.meta.url), 'utf8')
  } catch {
    return undefined
  }
}

function installedVersion(pkg: string): string {
  try {
    return JSON.parse(readFileSync(new URL(`node_modules/${pkg}/package.json`, benchDir), 'utf8')).version
  } catch {
    return 'not installed'
  }
}

function machine(): Record<string, string> {
  const cpu = cpus()
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim()
    } catch {
      return 'unknown'
    }
  }
  return {
    CPU: `${cpu[0]?.model ?? 'unknown'} × ${cpu.length} (shared with other work on this host)`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    OS: `Linux ${release()}`,
    Node: process.version,
    Redis: sh('redis-server', ['--version']),
    'load average at start (1/5/15 min)': loadavg()
      .map((l) => l.toFixed(2))
      .join(' / '),
    commit: sh('git', ['rev-parse', '--short', 'HEAD']),
    // The run measures the working tree: name what in packages/ differed from the commit, if anything.
    'uncommitted changes under packages/ at start': (() => {
      const dirty = sh('git', ['status', '--porcelain', '--', '../packages'])
      if (dirty === '') return 'none'
      const files = dirty.split('\n').map((l) => l.slice(3).trim())
      return `${files.length} file(s): ${files.slice(0, 8).join(', ')}${files.length > 8 ? ', …' : ''}`
    })(),
  }
}

/** Checks that count work rather than problems. */
const INFORMATIONAL_CHECKS = new Set(['firstLoads', 'loaderCallsPerCall', 'sampledFromAnotherInstance'])

/** The run with the median ops/s; numeric checks are the worst (max) over all runs, so a wrong value in any run shows. */
function medianRun(runs: ScenarioResult[]): ScenarioResult {
  const ok = runs.filter((r) => !r.failure)
  if (ok.length === 0) return runs[0]!
  if (ok.length === 1 && runs.length === 1) return ok[0]!
  const sorted = [...ok].sort((a, b) => (a.opsPerSec ?? 0) - (b.opsPerSec ?? 0))
  const median = { ...sorted[Math.floor((sorted.length - 1) / 2)]! }
  median.runs = ok.map((r) => r.opsPerSec ?? 0)
  median.checks = { ...median.checks }
  for (const r of ok) {
    for (const [name, value] of Object.entries(r.checks)) {
      const current = median.checks[name]
      if (typeof value === 'number' && typeof current === 'number' && value > current)
        median.checks[name] = value
    }
  }
  // Notes of every run (events the library reported, first errors), not only the median one's.
  const notes = ok.flatMap((r, i) => {
    // Each run's ops/s with the problems it counted, so a fast run full of misses is visible as such.
    const problems = Object.entries(r.checks)
      .filter(([name, v]) => typeof v === 'number' && v > 0 && !INFORMATIONAL_CHECKS.has(name))
      .map(([name, v]) => `${name} ${v}`)
    return [
      `run ${i + 1}: ${Math.round(r.opsPerSec ?? 0).toLocaleString('en-US')} ops/s${problems.length > 0 ? `, ${problems.join(', ')}` : ''}`,
      ...(r.notes ?? []).map((n) => `run ${i + 1}: ${n}`),
    ]
  })
  median.notes = notes.length > 0 ? notes : undefined
  const failed = runs.length - ok.length
  if (failed > 0)
    median.notes = [
      ...(median.notes ?? []),
      `${failed} of ${runs.length} runs failed: ${runs.find((r) => r.failure)?.failure?.split('\n')[0]}`,
    ]
  return median
}

const loads: number[] = []
let exitCode = 0
try {
  const info = machine()
  const admin = new Redis(server.url)
  const results: ScenarioResult[] = []
  const libs = contenders.filter(
    (c) =>
      (pickedLibs === undefined || pickedLibs.includes(c.id)) && (withCluster || c.id !== 'strata-cluster'),
  )
  const clusterAdmin = cluster === undefined ? undefined : new Cluster(cluster.nodes as never)
  const runScenarios = scenarios.filter(
    (s) => pickedScenarios === undefined || pickedScenarios.includes(s.id),
  )

  if (pickedScenarios === undefined || pickedScenarios.includes('baselines')) {
    log('baselines: lru-cache, ioredis')
    results.push(...(await runWorker('baselines', 'baseline')))
    log('baselines: redis-benchmark')
    results.push(...(await redisBenchmarkBaselines(server.host, server.port)))
  }
  for (const scenario of runScenarios) {
    const runLibs = libs.filter(
      (lib) => onlyIn[lib.id] === undefined || onlyIn[lib.id]!.includes(scenario.id),
    )
    const repeat = scenario.repeat ?? 1
    const runs = new Map<string, ScenarioResult[]>()
    for (let pass = 0; pass < repeat; pass++) {
      // Rotate the order each pass so no library always runs right after the same one.
      const order = runLibs.map((_, i) => runLibs[(i + pass) % runLibs.length]!)
      for (const lib of order) {
        await admin.flushall()
        if (lib.id === 'strata-cluster' && clusterAdmin !== undefined) {
          await clusterAdmin.ping()
          await Promise.all(clusterAdmin.nodes('master').map((node) => node.flushall()))
        }
        log(`${scenario.id}: ${lib.id}${repeat > 1 ? ` (run ${pass + 1}/${repeat})` : ''}`)
        loads.push(loadavg()[0]!)
        const out = await runWorker(scenario.id, lib.id)
        for (const r of out) if (r.failure) log(`  failed: ${r.failure.split('\n')[0]}`)
        runs.set(lib.id, [...(runs.get(lib.id) ?? []), ...out])
      }
    }
    for (const lib of runLibs) results.push(medianRun(runs.get(lib.id) ?? []))
  }
  admin.disconnect()
  clusterAdmin?.disconnect()

  const versions: Record<string, string> = {}
  for (const pkg of [...new Set(libs.flatMap((c) => c.packages)), 'ioredis', 'lru-cache'])
    versions[pkg] = installedVersion(pkg)
  const durationS = (Date.now() - started) / 1000
  info['load average (1 min) when each worker started'] =
    `${Math.min(...loads).toFixed(2)} to ${Math.max(...loads).toFixed(2)} (2 cores, shared with other work on this host)`
  const command = `pnpm bench:compare${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(' ')}` : ''}`
  const report = renderReport(results, {
    startedAt: new Date(started).toISOString(),
    durationS,
    machine: info,
    versions,
    contenders: libs,
    scenarios: runScenarios,
    analysis: readAnalysis(),
    command,
  })
  if (dry) {
    console.log(report)
  } else {
    writeFileSync(new URL('RESULTS.md', benchDir), report)
    writeFileSync(
      new URL('results.json', benchDir),
      `${JSON.stringify({ startedAt: new Date(started).toISOString(), durationS, command, machine: info, versions, results }, null, 2)}\n`,
    )
    log('wrote bench/RESULTS.md and bench/results.json')
  }
  log(`done in ${durationS.toFixed(0)} s`)
} catch (error) {
  if (!stopping) console.error(error)
  exitCode = 1
} finally {
  clearTimeout(runTimer)
  await shutdown()
}
process.exit(interrupted ? 130 : exitCode)
