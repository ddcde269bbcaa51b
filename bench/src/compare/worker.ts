/**
 * Runs one scenario for one library in a fresh process (`worker.ts <scenario> <library>`), so no
 * library's JIT state, heap or leftover sockets affect another's figures. Reports over IPC.
 */
import type { ChildProcess } from 'node:child_process'
import { Cluster, Redis } from 'ioredis'
import { ioredisBaseline, lruCacheBaseline } from './baselines.ts'
import type { CompareCache } from './contenders/contender.ts'
import { contenderById } from './contenders/index.ts'
import { withDeadline } from './measure.ts'
import { exitWithParent, forkTs, stopChild, waitExit } from './processes.ts'
import { call } from './rpc.ts'
import type { Peer, ScenarioContext, ScenarioResult, StampedeSide } from './scenario.ts'
import { scenarioById } from './scenarios/index.ts'

exitWithParent()
const [scenarioId, libraryId] = process.argv.slice(2)
const redisUrl = process.env.STRATA_BENCH_REDIS_URL
if (!scenarioId || !libraryId || !redisUrl) {
  console.error('usage: STRATA_BENCH_REDIS_URL=redis://... worker.ts <scenario> <library>')
  process.exit(64)
}

// A library that lets a promise reject unobserved, or throws from an event emitter with no
// listener, must not take the measurement down with it: count it and report it.
let unhandledRejections = 0
let uncaughtExceptions = 0
let firstUncaught: string | undefined
process.on('unhandledRejection', (reason) => {
  unhandledRejections++
  firstUncaught ??= String(reason)
})
process.on('uncaughtException', (error) => {
  uncaughtExceptions++
  firstUncaught ??= String(error)
})

const instances: CompareCache[] = []
const peers: ChildProcess[] = []

async function runBaselines(url: string): Promise<ScenarioResult[]> {
  return [lruCacheBaseline(), await ioredisBaseline(url)]
}

async function runScenario(url: string): Promise<ScenarioResult[]> {
  const contender = contenderById(libraryId!)
  const scenario = scenarioById(scenarioId!)
  const ctx: ScenarioContext = {
    contender,
    redisUrl: url,
    async create() {
      const cache = await contender.create(url)
      instances.push(cache)
      return cache
    },
    async peer() {
      const child = forkTs('./peer.ts', [contender.id], { STRATA_BENCH_REDIS_URL: url })
      peers.push(child)
      await withDeadline(call(child, 'init'), 20_000, 'peer start')
      const peer: Peer = {
        prime: (key) => call(child, 'prime', { key }),
        watch: (key) => call(child, 'watch', { key }),
        stopWatch: () => call(child, 'stopWatch'),
        stampede: (args) => call<StampedeSide>(child, 'stampede', args),
      }
      return peer
    },
    async signalRedis(signal) {
      await call(process, 'redis', { signal })
    },
    async countKeys() {
      const nodes = process.env.STRATA_BENCH_CLUSTER_NODES
      if (contender.id !== 'strata-cluster' || nodes === undefined) {
        const raw = new Redis(url)
        const count = await raw.dbsize()
        raw.disconnect()
        return count
      }
      const cluster = new Cluster(
        nodes.split(',').map((n) => ({ host: n.split(':')[0]!, port: Number(n.split(':')[1]) })),
      )
      try {
        await cluster.ping()
        const counts = await Promise.all(cluster.nodes('master').map((node) => node.dbsize()))
        return counts.reduce((a, b) => a + b, 0)
      } finally {
        cluster.disconnect()
      }
    },
  }
  return [await scenario.run(ctx)]
}

let results: ScenarioResult[]
try {
  results = scenarioId === 'baselines' ? await runBaselines(redisUrl) : await runScenario(redisUrl)
} catch (error) {
  results = [
    {
      scenario: scenarioId,
      library: libraryId,
      errors: 0,
      checks: {},
      failure: error instanceof Error ? (error.stack ?? error.message) : String(error),
    },
  ]
}
const reported: Record<string, number> = {}
for (const instance of instances) {
  for (const [name, n] of Object.entries(instance.diagnostics?.() ?? {}))
    reported[name] = (reported[name] ?? 0) + n
}
if (Object.keys(reported).length > 0) {
  const text = Object.entries(reported)
    .map(([name, n]) => `${name} × ${n}`)
    .join(', ')
  for (const r of results)
    r.notes = [...(r.notes ?? []), `events the library reported in this process: ${text}`]
}
if (unhandledRejections + uncaughtExceptions > 0) {
  for (const r of results) {
    r.checks.unhandledRejections = unhandledRejections
    r.checks.uncaughtExceptions = uncaughtExceptions
    r.notes = [...(r.notes ?? []), `first unhandled: ${firstUncaught?.slice(0, 200)}`]
  }
}
await call(process, 'result', results)

// Close everything within a bound: a library may hang on close while Redis is unhealthy.
await Promise.all(instances.map((c) => withDeadline(c.close(), 3_000, 'close').catch(() => {})))
await Promise.all(
  peers.map(async (child) => {
    await withDeadline(call(child, 'close'), 3_000, 'peer close').catch(() => {})
    await waitExit(child, 2_000)
    stopChild(child)
  }),
)
process.exit(0)
