/**
 * `pnpm demo:pods`: Redis on loopback, three thermal pods sharing it and one database file, and a
 * short scenario: cold vs warm latency, then an update through pod 1 seen at once on pods 2 and 3.
 * `pnpm demo:pods --cluster`: the same on a 3-master Redis Cluster (REDIS_CLUSTER_NODES).
 * Stops everything it started, by pid, and exits 0.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type RedisCluster,
  type RedisServer,
  startRedisCluster,
  startRedisServer,
} from '../packages/test-suite/src/redis-server.ts'
import { buildThermal, type DemoPod, startThermal } from './demo-support.ts'

interface Timed<T> {
  ms: number
  cache: string
  body: T
}

async function timedGet<T>(pod: DemoPod, path: string): Promise<Timed<T>> {
  const started = performance.now()
  const response = await fetch(`${pod.url}${path}`)
  const body = (await response.json()) as T
  const ms = performance.now() - started
  if (!response.ok) throw new Error(`${pod.name} GET ${path}: ${response.status} ${JSON.stringify(body)}`)
  return { ms, cache: response.headers.get('x-cache') ?? '-', body }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 0)} ms`
const say = (line = '') => process.stdout.write(`${line}\n`)

async function scenario(pods: DemoPod[]): Promise<void> {
  const [p1, p2, p3] = pods as [DemoPod, DemoPod, DemoPod]
  const racks = (await timedGet<{ racks: { id: number; name: string }[] }>(p1, '/api/racks')).body.racks
  const rack = racks[0]!
  const analysis = `/api/racks/${rack.id}/thermal-analysis`
  type Analysis = { totalHeatLoadW: number; maxInletC: number; hotspots: unknown[]; computeMs: number }

  say(`\n1. Thermal analysis of rack ${rack.id} (${rack.name})`)
  const cold = await timedGet<Analysis>(p1, analysis)
  say(
    `   pod 1  cold   ${fmt(cold.ms).padStart(9)}  x-cache: ${cold.cache}  (model solved in ${cold.body.computeMs} ms)`,
  )
  const fromL2 = await timedGet<Analysis>(p2, analysis)
  say(`   pod 2  first  ${fmt(fromL2.ms).padStart(9)}  x-cache: ${fromL2.cache}  (from Redis, L2)`)
  const warm: number[] = []
  for (let i = 0; i < 30; i++) warm.push((await timedGet<Analysis>(pods[i % 3]!, analysis)).ms)
  const warmMedian = median(warm)
  say(`   warm (30 requests over 3 pods, L1)  median ${fmt(warmMedian)}`)
  say(`   => cold / warm = ${(cold.ms / warmMedian).toFixed(0)}x`)
  say(
    `   max inlet ${cold.body.maxInletC} °C, ${cold.body.hotspots.length} hotspot units, heat load ${cold.body.totalHeatLoadW} W`,
  )

  say(`\n2. Placement optimization of rack ${rack.id}`)
  const optimization = `/api/racks/${rack.id}/optimization`
  type Optimization = { improvementK: number; evaluations: number; moves: unknown[] }
  const optCold = await timedGet<Optimization>(p1, optimization)
  const optWarm = await timedGet<Optimization>(p3, optimization)
  say(
    `   pod 1  cold ${fmt(optCold.ms).padStart(9)}  x-cache: ${optCold.cache}  (${optCold.body.evaluations} layouts scored)`,
  )
  say(`   pod 3  warm ${fmt(optWarm.ms).padStart(9)}  x-cache: ${optWarm.cache}`)
  say(`   => ${optCold.body.moves.length} moves, hottest inlet ${optCold.body.improvementK} K cooler`)

  say('\n3. Update through pod 1: add a 1U switch at the top of the rack')
  const added = await fetch(`${p1.url}/api/racks/${rack.id}/positions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'demo-switch', startU: 41, heightU: 1, powerWatts: 350 }),
  })
  if (added.status !== 201) throw new Error(`adding a position failed: ${added.status} ${await added.text()}`)
  say(`   pod 1  POST /api/racks/${rack.id}/positions -> 201 (rack entries invalidated on every pod)`)
  for (const [index, pod] of [p2, p3].entries()) {
    const seen = await timedGet<Analysis>(pod, analysis)
    const ok = seen.body.totalHeatLoadW === cold.body.totalHeatLoadW + 350
    say(
      `   pod ${index + 2}  heat load ${cold.body.totalHeatLoadW} W -> ${seen.body.totalHeatLoadW} W  x-cache: ${seen.cache}  ${fmt(seen.ms)}  ${ok ? 'OK' : 'STALE!'}`,
    )
    if (!ok) throw new Error(`pod ${index + 2} served a stale analysis after the update`)
  }

  say('\n4. /health/cache/stats per pod')
  for (const [index, pod] of pods.entries()) {
    const { body } = await timedGet<{ cache: Record<string, unknown> }>(pod, '/health/cache/stats')
    const c = body.cache
    say(
      `   pod ${index + 1}  hits ${c.keyspace_hits}  misses ${c.keyspace_misses}  hit rate ${c.hit_rate}%  redis ${c.used_memory}, ${c.connected_clients} clients`,
    )
  }
}

async function main(): Promise<void> {
  say('Building apps/thermal...')
  buildThermal()
  const dir = mkdtempSync(join(tmpdir(), 'strata-demo-pods-'))
  let redis: RedisServer | undefined
  let cluster: RedisCluster | undefined
  const pods: DemoPod[] = []
  let failed = false
  try {
    let where: Record<string, string>
    if (process.argv.includes('--cluster')) {
      cluster = await startRedisCluster()
      const nodes = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',')
      say(`Redis Cluster, 3 masters: ${nodes} (pids ${cluster.servers.map((s) => s.pid).join(', ')})`)
      where = { REDIS_CLUSTER_NODES: nodes }
    } else {
      redis = await startRedisServer({
        ownServer: true,
        password: 'demo-pods',
        args: ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'],
      })
      say(`Redis ${redis.url.replace(/:[^:@/]*@/, ':***@')} (pid ${redis.pid})`)
      where = { REDIS_URL: redis.url }
    }
    const env = { ...where, DATABASE_PATH: join(dir, 'thermal.db'), SEED_SAMPLE_RACKS: 'true' }
    pods.push(await startThermal('pod-1', env)) // seeds the racks
    pods.push(...(await Promise.all([startThermal('pod-2', env), startThermal('pod-3', env)])))
    for (const [i, pod] of pods.entries()) say(`pod ${i + 1}  ${pod.url}  (pid ${pod.pid})`)
    await scenario(pods)
  } catch (error) {
    failed = true
    process.stderr.write(`\ndemo:pods failed: ${error instanceof Error ? error.message : String(error)}\n`)
  } finally {
    say('\nStopping the pods and Redis (by pid)...')
    await Promise.all(pods.map((pod) => pod.stop()))
    await redis?.stop()
    await cluster?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  say(failed ? 'Done, with a failure.' : 'Done.')
  process.exit(failed ? 1 : 0)
}

void main()
