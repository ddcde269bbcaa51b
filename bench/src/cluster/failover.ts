/**
 * How long writes stop when a master dies: the time from SIGKILL of the master that owns a key to the
 * first `cache.set` of that key that Redis holds again, through createCache on a 3+3 cluster (for each
 * `cluster-node-timeout` given) and through a Sentinel set (3 sentinels, `down-after-milliseconds`
 * 1000). Run:
 *
 *   node --conditions=@strata-cache/source --import tsx bench/src/cluster/failover.ts [--timeouts 1000,2000] [--runs 2]
 *
 * Every server is started here on loopback and stopped by pid; a run takes ~10 s.
 */
import type { Cache } from '@strata-cache/core'
import {
  killMasterOf,
  startRedisCluster,
  startRedisSentinelSet,
  waitForClusterFailover,
} from '@strata-cache/test-suite/redis-server'
import { createCache, type TieredStore } from '@strata-cache/tiered'

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback)
}
const TIMEOUTS = arg('timeouts', '1000,2000').split(',').map(Number)
const RUNS = Number(arg('runs', '2'))
const KEY = 'failover:probe'

/** Writes `KEY` every 10 ms from now on; resolves the ms from `killedAt()` to the first write Redis holds after it. */
function firstWriteAfter(
  cache: Cache,
  killedAt: () => number | undefined,
): { landed: Promise<number>; stop(): void } {
  const store = cache.store as TieredStore
  let stopped = false
  const landed = (async () => {
    for (let i = 0; !stopped; i++) {
      const value = `v${i}`
      await cache.set(KEY, value)
      const at = killedAt()
      if (at !== undefined && (await store.l2.get(KEY))?.value === value) return Date.now() - at
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    return Number.NaN
  })()
  return {
    landed,
    stop: () => {
      stopped = true
    },
  }
}

const rows: string[] = []
for (const nodeTimeoutMs of TIMEOUTS) {
  for (let run = 0; run < RUNS; run++) {
    const cluster = await startRedisCluster({ replicas: 1, nodeTimeoutMs })
    const cache = createCache({ cluster: { nodes: cluster.nodes }, prefix: 'fo:', defaultTtl: '1h' })
    try {
      await (cache.store as TieredStore).ready(10_000)
      let killedAt: number | undefined
      const writer = firstWriteAfter(cache, () => killedAt)
      await new Promise((resolve) => setTimeout(resolve, 300))
      const { killed, slots } = await killMasterOf(cluster, `fo:${KEY}`)
      killedAt = Date.now()
      const { ms: promotedMs } = await waitForClusterFailover(cluster, killed, slots, 60_000)
      const landedMs = await writer.landed
      writer.stop()
      rows.push(
        `| cluster, cluster-node-timeout ${nodeTimeoutMs} ms | ${run + 1} | ${promotedMs} | ${landedMs} |`,
      )
    } finally {
      await cache.close()
      await cluster.stop()
    }
  }
}
for (let run = 0; run < RUNS; run++) {
  const set = await startRedisSentinelSet({ downAfterMs: 1000 })
  const cache = createCache({
    sentinel: { sentinels: set.sentinelAddresses, name: set.name },
    prefix: 'fo:',
    defaultTtl: '1h',
  })
  try {
    await (cache.store as TieredStore).ready(10_000)
    let killedAt: number | undefined
    const writer = firstWriteAfter(cache, () => killedAt)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await set.master.kill()
    killedAt = Date.now()
    const { ms: promotedMs } = await set.waitForFailover(set.master, 60_000)
    const landedMs = await writer.landed
    writer.stop()
    rows.push(`| Sentinel, down-after-milliseconds 1000 ms | ${run + 1} | ${promotedMs} | ${landedMs} |`)
  } finally {
    await cache.close()
    await set.stop()
  }
}
console.log('| setup | run | replica promoted after (ms) | first write landed after (ms) |')
console.log('|---|---|---|---|')
for (const row of rows) console.log(row)
process.exit(0)
