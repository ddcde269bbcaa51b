/**
 * The L2 paths of issue 15 in one process, for `node --cpu-prof`: cold getOrSet and a read-once L2
 * get, through `createCache`, through a Cache over RedisStore alone, and as naive ioredis calls.
 *
 *   pnpm bench:profile [strata|strata-no-bus|strata-load-admission|redis-only|naive] [cold|read] [seconds]
 *
 * Starts its own redis-server on a free loopback port and stops it by pid at the end.
 */
import { Cache } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { RedisStore } from '@strata-cache/redis'
import { startRedisServer } from '@strata-cache/test-suite/redis-server'
import { createCache, TieredStore } from '@strata-cache/tiered'
import { Redis } from 'ioredis'
import { concurrentRun } from '../compare/measure.ts'
import { makePayload } from '../compare/payload.ts'

const [mode = 'strata', scenario = 'cold', seconds = '3'] = process.argv.slice(2)
const TTL = 600_000

interface Target {
  get(key: string): Promise<unknown>
  set(key: string, value: unknown): Promise<void>
  getOrSet(key: string, loader: () => Promise<unknown>): Promise<unknown>
  close(): Promise<void>
}

/** The Strata setup a mode names (every mode but `naive`). */
function strataCache(url: string): Cache {
  switch (mode) {
    case 'redis-only':
      return new Cache({ store: new RedisStore({ url }), defaultTtl: TTL })
    case 'strata-no-bus':
      // createCache's tiers without the bus: what the invalidation notices cost, by difference.
      return new Cache({
        store: new TieredStore({ l1: new MemoryStore({ maxEntries: 10_000 }), l2: new RedisStore({ url }) }),
        defaultTtl: TTL,
      })
    case 'strata-load-admission':
      // Loader results through L1's doorkeeper too (opt-in): what L1's copy of a fill costs.
      return createCache({
        redisUrl: url,
        l1: { maxEntries: 10_000, loadAdmission: 'seen-twice' },
        defaultTtl: TTL,
      })
    default:
      return createCache({ redisUrl: url, l1: { maxEntries: 10_000 }, defaultTtl: TTL })
  }
}

function target(url: string): Target {
  if (mode === 'naive') {
    const client = new Redis(url, { enableAutoPipelining: true })
    return {
      get: async (key) => {
        const text = await client.get(key)
        return text === null ? undefined : JSON.parse(text)
      },
      set: async (key, value) => {
        await client.set(key, JSON.stringify(value), 'PX', TTL)
      },
      getOrSet: async (key, loader) => {
        const text = await client.get(key)
        if (text !== null) return JSON.parse(text)
        const value = await loader()
        await client.set(key, JSON.stringify(value), 'PX', TTL)
        return value
      },
      close: async () => void client.disconnect(),
    }
  }
  const cache = strataCache(url)
  return {
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    getOrSet: (key, loader) => cache.getOrSet(key, loader),
    close: () => cache.close(),
  }
}

/** Redis's own CPU time so far (user + sys), in µs: what each path costs the server. */
async function redisCpuUs(url: string): Promise<number> {
  const client = new Redis(url)
  const info = await client.info('cpu')
  client.disconnect()
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0)
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6
}

/** Calls per command so far (INFO commandstats): which commands each path sends. */
async function redisCalls(url: string): Promise<Map<string, number>> {
  const client = new Redis(url)
  const info = await client.info('commandstats')
  client.disconnect()
  const calls = new Map<string, number>()
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]))
  return calls
}

/** Commands per operation between two commandstats samples, e.g. `get 1.00, evalsha 1.00`. */
function perOp(before: Map<string, number>, after: Map<string, number>, ops: number): string {
  const rows: string[] = []
  for (const [name, calls] of after) {
    const n = (calls - (before.get(name) ?? 0)) / ops
    if (n >= 0.01 && name !== 'info') rows.push(`${name} ${n.toFixed(2)}`)
  }
  return rows.join(', ')
}

/** This process's CPU time (user + system) in µs. */
const cpuUs = (usage: NodeJS.CpuUsage) => usage.user + usage.system

const server = await startRedisServer()
try {
  const url = server.url
  const durationMs = Number(seconds) * 1000
  if (scenario === 'cold') {
    const t = target(url)
    await t.get('warm-up') // connect
    const cpuBefore = await redisCpuUs(url)
    const callsBefore = await redisCalls(url)
    const nodeBefore = process.cpuUsage()
    const r = await concurrentRun((i) => t.getOrSet(`cold:item:${i}`, async () => makePayload(i)), {
      concurrency: 100,
      durationMs,
      maxOps: 1_000_000,
    })
    const nodeUsPerOp = cpuUs(process.cpuUsage(nodeBefore)) / r.ops
    const redisUsPerOp = ((await redisCpuUs(url)) - cpuBefore) / r.ops
    console.log(
      `${mode} cold getOrSet: ${Math.round(r.opsPerSec)} ops/s, p50 ${r.p50.toFixed(2)} ms, errors ${r.errors}, CPU per op: Node ${nodeUsPerOp.toFixed(1)} µs, Redis ${redisUsPerOp.toFixed(1)} µs; commands per op: ${perOp(callsBefore, await redisCalls(url), r.ops)}`,
    )
    await t.close()
  } else {
    const keys = 100_000
    const writer = target(url)
    await concurrentRun((i) => writer.set(`l2:item:${i}`, makePayload(i)), {
      concurrency: 100,
      durationMs: 60_000,
      maxOps: keys,
    })
    await writer.close()
    const reader = target(url)
    await reader.get('warm-up')
    const cpuBefore = await redisCpuUs(url)
    const callsBefore = await redisCalls(url)
    const nodeBefore = process.cpuUsage()
    const r = await concurrentRun((i) => reader.get(`l2:item:${i}`), {
      concurrency: 100,
      durationMs,
      maxOps: keys,
    })
    const nodeUsPerOp = cpuUs(process.cpuUsage(nodeBefore)) / r.ops
    const redisUsPerOp = ((await redisCpuUs(url)) - cpuBefore) / r.ops
    console.log(
      `${mode} read-once get: ${Math.round(r.opsPerSec)} ops/s (${r.ops} reads), p50 ${r.p50.toFixed(2)} ms, CPU per op: Node ${nodeUsPerOp.toFixed(1)} µs, Redis ${redisUsPerOp.toFixed(1)} µs; commands per op: ${perOp(callsBefore, await redisCalls(url), r.ops)}`,
    )
    await reader.close()
  }
} finally {
  await server.stop()
}
