import { Cache, type RefreshAheadOptions } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import type { BenchRow, BenchSuite } from '../harness.ts'

// Issue 16: which refresh-ahead policy `refreshAhead: true` means. One hot key with a 500 ms TTL
// and a 10 s grace served stale at once (softTimeout 0), under three loads: 20 callers each calling
// every millisecond (hot) and one caller every 20 ms (warm), both with a 20 ms loader, and the hot
// callers with a 150 ms loader (30% of the TTL). For each policy: loader calls (the cost) and values
// served stale (what refresh-ahead is for: zero is the goal).
const TTL_MS = 500
const LOADER_MS = 20
const RUN_MS = Number(process.env.REFRESH_AHEAD_RUN_MS ?? 4000)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const POLICIES: { name: string; refreshAhead: false | RefreshAheadOptions }[] = [
  { name: 'off', refreshAhead: false },
  { name: 'fraction 0.5', refreshAhead: { strategy: 'fraction', fraction: 0.5 } },
  { name: 'fraction 0.8', refreshAhead: { strategy: 'fraction', fraction: 0.8 } },
  { name: 'fraction 0.9', refreshAhead: { strategy: 'fraction', fraction: 0.9 } },
  { name: 'xfetch beta 0.5', refreshAhead: { strategy: 'xfetch', beta: 0.5 } },
  { name: 'xfetch beta 1', refreshAhead: { strategy: 'xfetch', beta: 1 } },
  { name: 'xfetch beta 2', refreshAhead: { strategy: 'xfetch', beta: 2 } },
]
const LOADS = [
  { name: 'hot (20 callers, 1 ms apart)', callers: 20, pauseMs: 1, loaderMs: LOADER_MS },
  { name: 'warm (1 caller, 20 ms apart)', callers: 1, pauseMs: 20, loaderMs: LOADER_MS },
  { name: 'hot, slow loader (150 ms)', callers: 20, pauseMs: 1, loaderMs: 150 },
]

/** Loader calls, values served stale and requests for one policy under one load. */
export async function measureRefreshAhead(
  refreshAhead: false | RefreshAheadOptions,
  load: { callers: number; pauseMs: number; loaderMs: number },
  runMs = RUN_MS,
): Promise<{ requests: number; loaderCalls: number; stale: number; waited: number; ms: number }> {
  const cache = new Cache({
    store: new MemoryStore(),
    defaultTtl: TTL_MS,
    grace: '10s',
    softTimeout: 0,
    refreshAhead,
  })
  let loaderCalls = 0
  const loader = async () => {
    loaderCalls++
    await sleep(load.loaderMs)
    return { rack: 7, watts: loaderCalls }
  }
  await cache.getOrSet('hot:key', loader)
  loaderCalls = 0
  let requests = 0
  const started = performance.now()
  const until = started + runMs
  await Promise.all(
    Array.from({ length: load.callers }, async () => {
      while (performance.now() < until) {
        await cache.getOrSet('hot:key', loader)
        requests++
        await sleep(load.pauseMs)
      }
    }),
  )
  const ms = performance.now() - started
  await sleep(load.loaderMs * 2) // a reload still in flight counts
  const stats = await cache.stats()
  await cache.close()
  return { requests, loaderCalls, stale: stats.staleHits, waited: stats.misses, ms }
}

export const suite: BenchSuite = {
  name: 'refresh-ahead',
  async run() {
    const rows: BenchRow[] = []
    for (const load of LOADS) {
      for (const policy of POLICIES) {
        const r = await measureRefreshAhead(policy.refreshAhead, load)
        const periods = r.ms / TTL_MS
        rows.push({
          suite: 'refresh-ahead',
          name: `${load.name}: ${policy.name}`,
          opsPerSec: (r.requests * 1000) / r.ms,
          meanNs: 0,
          samples: r.requests,
          note: `loader calls ${r.loaderCalls} (${(r.loaderCalls / periods).toFixed(2)} per TTL), served stale ${r.stale} (${((r.stale / Math.max(1, r.requests)) * 1000).toFixed(2)} per 1000), waited ${r.waited}`,
        })
      }
    }
    return rows
  },
}
