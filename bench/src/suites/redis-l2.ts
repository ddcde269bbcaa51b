import { Cache } from '@strata-cache/core'
import { RedisStore } from '@strata-cache/redis'
import { startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { type BenchRow, type BenchSuite, percentiles } from '../harness.ts'

// Issue 3: L2-only Cache.get with 100 concurrent callers against raw ioredis GET on the same server
// in the same run; getMany of 100 keys against raw MGET; pool sizes; and getOrSet latency through a
// 3 s SIGSTOP of the server, with the time the store takes to recover after SIGCONT.
const KEYS = 1_000
const CONCURRENCY = 100
const ROUNDS = 9
const SLICE_MS = 200
const value = {
  id: 1,
  name: 'rack-1',
  units: Array.from({ length: 20 }, (_, i) => ({ u: i, watts: 100 + i })),
}
/** The value part of a stored entry (after the header line), parsed. */
const parseBody = (text: string | null): unknown =>
  text === null ? undefined : JSON.parse(text.slice(text.indexOf('\n') + 1))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Interleaved measurement: every round runs each task for `sliceMs` in turn (order rotating), and a
 * task's figure is the median of its slices. On a shared machine whose load swings, this compares
 * tasks under the same conditions, which one long run per task does not.
 */
async function interleaved(
  suiteName: string,
  tasks: readonly { name: string; fn: () => Promise<unknown>; ops: number; baseline?: string }[],
  rounds: number,
  sliceMs: number,
): Promise<BenchRow[]> {
  const slices = new Map<string, number[]>(tasks.map((t) => [t.name, []]))
  for (const task of tasks) {
    // Warm-up outside the measurement.
    const until = performance.now() + sliceMs / 2
    while (performance.now() < until) await task.fn()
  }
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < tasks.length; k++) {
      const task = tasks[(k + round) % tasks.length]!
      let calls = 0
      const started = performance.now()
      while (performance.now() - started < sliceMs) {
        await task.fn()
        calls++
      }
      slices.get(task.name)!.push((calls * task.ops * 1000) / (performance.now() - started))
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
  const rows: BenchRow[] = tasks.map((task) => {
    const opsPerSec = median(slices.get(task.name)!)
    return {
      suite: suiteName,
      name: task.name,
      opsPerSec,
      meanNs: 1e9 / opsPerSec,
      samples: rounds,
      note: `median of ${rounds} interleaved ${sliceMs} ms slices`,
    }
  })
  for (const task of tasks) {
    const row = rows.find((r) => r.name === task.name)!
    const base = rows.find((r) => r.name === task.baseline)
    if (base && row.opsPerSec > 0) {
      row.baseline = base.name
      row.slowdown = base.opsPerSec / row.opsPerSec
    }
  }
  return rows
}

/** getOrSet latencies of 20 paced callers while the server is SIGSTOPped for `ms`. */
async function outage(
  url: string,
  begin: () => void | Promise<void>,
  end: () => void | Promise<void>,
): Promise<{ latencies: number[]; recoveryMs: number; rejections: number }> {
  const store = new RedisStore({ url, prefix: 'bench-outage:' })
  const cache = new Cache({ store, defaultTtl: '1m' })
  await store.ready()
  const latencies: number[] = []
  let rejections = 0
  await begin()
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
    await end()
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
      const concurrent = await interleaved(
        'redis-l2',
        [
          {
            name: 'ioredis get x100 (raw, auto-pipelined)',
            ops: CONCURRENCY,
            fn: () => {
              const at = batch()
              return Promise.all(
                Array.from({ length: CONCURRENCY }, (_, j) => raw.get(fullKeys[(at + j) % KEYS]!)),
              )
            },
          },
          {
            name: 'ioredis get x100 (raw, default options)',
            ops: CONCURRENCY,
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
            ops: CONCURRENCY,
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
            ops: CONCURRENCY,
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
            ops: CONCURRENCY,
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
            ops: CONCURRENCY,
            fn: () => {
              const at = batch()
              return Promise.all(
                Array.from({ length: CONCURRENCY }, (_, j) => cache4.get(keys[(at + j) % KEYS]!)),
              )
            },
            baseline: 'ioredis get x100 (raw, auto-pipelined)',
          },
        ],
        ROUNDS,
        SLICE_MS,
      )
      const many = await interleaved(
        'redis-l2',
        [
          {
            name: 'ioredis mget 100 keys (raw)',
            ops: 1,
            fn: () => {
              const at = batch()
              return raw.mget(fullKeys.slice(at, at + 100))
            },
          },
          {
            name: 'ioredis mget + JSON.parse 100 keys (raw)',
            ops: 1,
            fn: () => {
              const at = batch()
              return raw.mget(fullKeys.slice(at, at + 100)).then((texts) => texts.map(parseBody))
            },
            baseline: 'ioredis mget 100 keys (raw)',
          },
          {
            name: 'Cache.getMany 100 keys (L2 only)',
            ops: 1,
            fn: () => {
              const at = batch()
              return cache1.getMany(keys.slice(at, at + 100))
            },
            baseline: 'ioredis mget 100 keys (raw)',
          },
        ],
        ROUNDS,
        SLICE_MS,
      )
      raw.disconnect()
      rawPlain.disconnect()
      await Promise.all(caches.map((c) => c.close()))
      await Promise.all(stores.map((s) => s.close()))

      const outageRows: BenchRow[] = []
      const scenarios = [
        {
          name: 'SIGSTOP',
          begin: () => server.pause(),
          end: () => server.resume(),
          after: 'SIGCONT',
        },
        {
          name: 'SIGKILL',
          begin: () => server.kill(),
          end: () => server.restart(),
          after: 'the restarted server answered PING',
        },
      ]
      for (const scenario of scenarios) {
        const result = await outage(server.url, scenario.begin, scenario.end)
        const p = percentiles(result.latencies)
        const mean = result.latencies.reduce((a, b) => a + b, 0) / Math.max(1, result.latencies.length)
        outageRows.push(
          {
            suite: 'redis-l2',
            name: `Cache.getOrSet during 3 s ${scenario.name} (20 callers)`,
            opsPerSec: p.count / 3,
            meanNs: mean * 1e6,
            p99Ns: p.p99 * 1e6,
            samples: p.count,
            note: `p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, max ${p.max.toFixed(2)} ms, rejections ${result.rejections}`,
          },
          {
            suite: 'redis-l2',
            name: `recovery after ${scenario.name} (breaker closed)`,
            opsPerSec: 0,
            meanNs: result.recoveryMs * 1e6,
            samples: 1,
            note: `${result.recoveryMs.toFixed(0)} ms from ${scenario.after} to isAvailable() (probe every 500 ms, reconnect backoff <= 1 s)`,
          },
        )
      }
      for (const row of concurrent) row.note += `; ops = single gets, ${CONCURRENCY} in flight`
      for (const row of many) row.note += '; ops = calls of 100 keys'
      return [...concurrent, ...many, ...outageRows]
    } finally {
      await server.stop()
    }
  },
}
