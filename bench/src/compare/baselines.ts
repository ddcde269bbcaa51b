/** Baselines measured in the same run: raw lru-cache, raw ioredis with auto-pipelining, redis-benchmark. */
import { execFile } from 'node:child_process'
import { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import { concurrentRun, percentilesOf } from './measure.ts'
import { makePayload, type Payload } from './payload.ts'
import type { ScenarioResult } from './scenario.ts'
import { HOT_KEYS } from './scenarios/l1-get.ts'

/** lru-cache `get` on the same 1,000 hot ~1 KB objects, in a plain synchronous loop. */
export function lruCacheBaseline(): ScenarioResult {
  const lru = new LRUCache<string, Payload>({ max: 10_000 })
  const keys = Array.from({ length: HOT_KEYS }, (_, i) => `hot:item:${i}`)
  for (let i = 0; i < HOT_KEYS; i++) lru.set(keys[i]!, makePayload(i))
  let misses = 0
  const runFor = (ms: number) => {
    let i = 0
    const start = performance.now()
    const end = start + ms
    for (;;) {
      for (let j = 0; j < 1024; j++) if (lru.get(keys[i++ % HOT_KEYS]!) === undefined) misses++
      if (performance.now() >= end) break
    }
    return { ops: i, elapsed: performance.now() - start }
  }
  runFor(500)
  const { ops, elapsed } = runFor(1500)
  const samples = new Float64Array(100_000)
  for (let i = 0; i < samples.length; i++) {
    const t = performance.now()
    lru.get(keys[i % HOT_KEYS]!)
    samples[i] = performance.now() - t
  }
  const p = percentilesOf(samples)
  return {
    scenario: 'l1-get',
    library: 'baseline:lru-cache',
    opsPerSec: (ops / elapsed) * 1000,
    ops,
    p50Ms: p.p50,
    p99Ms: p.p99,
    maxMs: p.max,
    errors: 0,
    checks: { missesDuringRun: misses },
    notes: ['synchronous loop, no await; per-call latency is mostly the cost of reading the clock'],
  }
}

/** ioredis `get` of the same 20,000 ~1 KB strings, 100 concurrent callers, auto-pipelining on. */
export async function ioredisBaseline(redisUrl: string): Promise<ScenarioResult> {
  const client = new Redis(redisUrl, { enableAutoPipelining: true, lazyConnect: false })
  const keys = Array.from({ length: 20_000 }, (_, i) => `baseline:item:${i}`)
  await concurrentRun((i) => client.set(keys[i]!, JSON.stringify(makePayload(i))), {
    concurrency: 100,
    durationMs: 30_000,
    maxOps: keys.length,
  })
  let misses = 0
  const result = await concurrentRun(
    async (i) => {
      if ((await client.get(keys[i]!)) === null) misses++
    },
    { concurrency: 100, durationMs: 20_000, maxOps: keys.length },
  )
  client.disconnect()
  return {
    scenario: 'l2-get',
    library: 'baseline:ioredis',
    opsPerSec: result.opsPerSec,
    ops: result.ops,
    p50Ms: result.p50,
    p99Ms: result.p99,
    maxMs: result.max,
    errors: result.errors,
    checks: { misses },
    notes: ['raw GET returning the JSON string, no parse'],
  }
}

/** `redis-benchmark -t get` with ~1 KB values, 100 clients, without and with pipelining (-P 16). */
export async function redisBenchmarkBaselines(host: string, port: number): Promise<ScenarioResult[]> {
  const runs = [
    { library: 'baseline:redis-benchmark', args: ['-n', '100000'] },
    { library: 'baseline:redis-benchmark -P 16', args: ['-n', '400000', '-P', '16'] },
  ]
  const results: ScenarioResult[] = []
  for (const run of runs) {
    const argv = [
      '-h',
      host,
      '-p',
      String(port),
      '-t',
      'get',
      '-c',
      '100',
      '-d',
      '1000',
      '--csv',
      ...run.args,
    ]
    const out = await new Promise<string>((resolve, reject) =>
      execFile('redis-benchmark', argv, { timeout: 60_000 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      ),
    )
    // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    const line = out
      .split('\n')
      .find((l) => l.startsWith('"GET"'))
      ?.split(',')
      .map((f) => f.replaceAll('"', ''))
    if (line === undefined) throw new Error(`redis-benchmark printed no GET line: ${out.slice(0, 300)}`)
    results.push({
      scenario: 'l2-get',
      library: run.library,
      opsPerSec: Number(line[1]),
      p50Ms: Number(line[4]),
      p99Ms: Number(line[6]),
      maxMs: Number(line[7]),
      errors: 0,
      checks: {},
      notes: [`redis-benchmark ${argv.join(' ')}`],
    })
  }
  return results
}
