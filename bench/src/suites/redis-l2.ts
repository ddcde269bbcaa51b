import { Cache } from '@strata-cache/core'
import { RedisStore } from '@strata-cache/redis'
import { startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { type BenchRow, type BenchSuite, measure, percentiles } from '../harness.ts'

// Issue 3: L2-only Cache.get with 100 concurrent callers against raw ioredis GET on the same server
// in the same run; getMany of 100 keys against raw MGET; pool sizes; and getOrSet latency through a
// 3 s SIGSTOP of the server, with the time the store takes to recover after SIGCONT.
const KEYS = 1_000
const CONCURRENCY = 100
const value = {
  id: 1,
  name: 'rack-1',
  units: Array.from({ length: 20 }, (_, i) => ({ u: i, watts: 100 + i })),
}
/** The value part of a stored entry (after the header line), parsed. */
const parseBody = (text: string | null): unknown =>
  text === null ? undefined : JSON.parse(text.slice(text.indexOf('\n') + 1))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function perCall(rows: BenchRow[], calls: number): BenchRow[] {
  // Each task runs `calls` operations: report per operation so the figures read as ops/s.
  for (const row of rows) {
    row.opsPerSec *= calls
    row.meanNs /= calls
    if (row.p99Ns !== undefined) row.p99Ns /= calls
    row.note = `${calls} concurrent per sample`
  }
  return rows
}

/** getOrSet latencies of 20 paced callers while the server is SIGSTOPped for `ms`. */
async function outage(
  url: string,
  pause: () => void,
  resume: () => void,
): Promise<{ latencies: number[]; recoveryMs: number; rejections: number }> {
  const store = new RedisStore({ url, prefix: 'bench-outage:' })
  const cache = new Cache({ store, defaultTtl: '1m' })
  await store.ready()
  const latencies: number[] = []
  let rejections = 0
  pause()
  const until = Date.now() + 3000
  try {
    await Promise.all(
      Array.from({ length: 20 }, async (_, w) => {
        for (let i = 0; Date.now() < until; i++) {
          const started = performance.now()
          try {
            await cache.getOrSet(`outage:${(w * 7 + i) % 50}`, () => value)
          } catch {
            rejections++
          }
          latencies.push(performance.now() - started)
          await sleep(5)
        }
      }),
    )
  } finally {
    resume()
  }
  const resumed = performance.now()
  while (!store.isAvailable() && performance.now() - resumed < 10_000) await sleep(5)
  const recoveryMs = performance.now() - resumed
  await cache.close()
  await store.close()
  return { latencies, recoveryMs, rejections }
}

export const suite: BenchSuite = {
  name: 'redis-l2',
  async run() {
    const server = await startRedisServer({ ownServer: true })
    try {
      const keys = Array.from({ length: KEYS }, (_, i) => `thermal:rack:${i}:a1b2c3d4`)
      const raw = new Redis(server.url, { enableAutoPipelining: true })
      const rawPlain = new Redis(server.url)
      const stores = [1, 2, 4].map(
        (size) => new RedisStore({ url: server.url, prefix: 'bench:', pool: { size } }),
      )
      const caches = stores.map((store) => new Cache({ store, defaultTtl: '1h' }))
      await Promise.all(stores.map((s) => s.ready()))
      const [cache1, cache2, cache4] = caches as [Cache, Cache, Cache]
      for (const key of keys) await cache1.set(key, value)
      // Raw ioredis reads the same encoded bytes under the same Redis keys.
      const fullKeys = keys.map((k) => stores[0]!.keyFor(k))
      let i = 0
      // 100 distinct keys per sample: the Cache single-flights concurrent reads of one key.
      const batch = () => {
        i = (i + CONCURRENCY) % KEYS
        return i
      }
      const concurrent = await measure('redis-l2', [
        {
          name: 'ioredis get x100 (raw, auto-pipelined)',
          fn: () => {
            const at = batch()
            return Promise.all(
              Array.from({ length: CONCURRENCY }, (_, j) => raw.get(fullKeys[(at + j) % KEYS]!)),
            )
          },
        },
        {
          name: 'ioredis get x100 (raw, default options)',
          fn: () => {
            const at = batch()
            return Promise.all(
              Array.from({ length: CONCURRENCY }, (_, j) => rawPlain.get(fullKeys[(at + j) % KEYS]!)),
            )
          },
          baseline: 'ioredis get x100 (raw, auto-pipelined)',
        },
        {
          // What a hand-written cache does: GET, then decode. Strips our header, parses the JSON.
          name: 'ioredis get + JSON.parse x100 (raw)',
          fn: () => {
            const at = batch()
            return Promise.all(
              Array.from({ length: CONCURRENCY }, (_, j) =>
                raw.get(fullKeys[(at + j) % KEYS]!).then((text) => parseBody(text)),
              ),
            )
          },
          baseline: 'ioredis get x100 (raw, auto-pipelined)',
        },
        {
          name: 'Cache.get x100 (L2 only, pool 1)',
          fn: () => {
            const at = batch()
            return Promise.all(
              Array.from({ length: CONCURRENCY }, (_, j) => cache1.get(keys[(at + j) % KEYS]!)),
            )
          },
          baseline: 'ioredis get x100 (raw, auto-pipelined)',
        },
        {
          name: 'Cache.get x100 (L2 only, pool 2)',
          fn: () => {
            const at = batch()
            return Promise.all(
              Array.from({ length: CONCURRENCY }, (_, j) => cache2.get(keys[(at + j) % KEYS]!)),
            )
          },
          baseline: 'ioredis get x100 (raw, auto-pipelined)',
        },
        {
          name: 'Cache.get x100 (L2 only, pool 4)',
          fn: () => {
            const at = batch()
            return Promise.all(
              Array.from({ length: CONCURRENCY }, (_, j) => cache4.get(keys[(at + j) % KEYS]!)),
            )
          },
          baseline: 'ioredis get x100 (raw, auto-pipelined)',
        },
      ])
      const many = await measure('redis-l2', [
        {
          name: 'ioredis mget 100 keys (raw)',
          fn: () => {
            const at = batch()
            return raw.mget(fullKeys.slice(at, at + 100))
          },
        },
        {
          name: 'ioredis mget + JSON.parse 100 keys (raw)',
          fn: () => {
            const at = batch()
            return raw.mget(fullKeys.slice(at, at + 100)).then((texts) => texts.map(parseBody))
          },
          baseline: 'ioredis mget 100 keys (raw)',
        },
        {
          name: 'Cache.getMany 100 keys (L2 only)',
          fn: () => {
            const at = batch()
            return cache1.getMany(keys.slice(at, at + 100))
          },
          baseline: 'ioredis mget 100 keys (raw)',
        },
      ])
      raw.disconnect()
      rawPlain.disconnect()
      await Promise.all(caches.map((c) => c.close()))
      await Promise.all(stores.map((s) => s.close()))

      const hung = await outage(
        server.url,
        () => server.pause(),
        () => server.resume(),
      )
      const p = percentiles(hung.latencies)
      const mean = hung.latencies.reduce((a, b) => a + b, 0) / Math.max(1, hung.latencies.length)
      const outageRows: BenchRow[] = [
        {
          suite: 'redis-l2',
          name: 'Cache.getOrSet during 3 s SIGSTOP (20 callers)',
          opsPerSec: p.count / 3,
          meanNs: mean * 1e6,
          p99Ns: p.p99 * 1e6,
          samples: p.count,
          note: `p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, max ${p.max.toFixed(2)} ms, rejections ${hung.rejections}`,
        },
        {
          suite: 'redis-l2',
          name: 'recovery after SIGCONT (breaker closed)',
          opsPerSec: 0,
          meanNs: hung.recoveryMs * 1e6,
          samples: 1,
          note: `${hung.recoveryMs.toFixed(0)} ms from SIGCONT to isAvailable() (probe every 500 ms)`,
        },
      ]
      for (const row of many) row.note = 'one call of 100 keys per sample'
      return [...perCall(concurrent, CONCURRENCY), ...many, ...outageRows]
    } finally {
      await server.stop()
    }
  },
}
