import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Cache } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { RedisStore } from '@strata-cache/redis'
import { startRedisServer } from '@strata-cache/test-suite/redis-server'
import { createCache, TieredStore } from '@strata-cache/tiered'
import { LRUCache } from 'lru-cache'
import { type BenchRow, type BenchSuite, measure, percentiles } from '../harness.ts'

// Issue 4: tiered get on an L1 hit against raw lru-cache get; tiered get on an L2 hit (L1 cold) and
// getOrSet on a cold key against the same on an L2-only Cache; and invalidation propagation from
// this process to a second one.
const KEYS = 1_000
const ROUNDS = 500
const value = {
  id: 1,
  name: 'rack-1',
  units: Array.from({ length: 20 }, (_, i) => ({ u: i, watts: 100 + i })),
}
const CHILD_FLAG = 'STRATA_BENCH_TIERED_CHILD'

export const suite: BenchSuite = {
  name: 'tiered',
  async run() {
    const server = await startRedisServer({ ownServer: true })
    const rows: BenchRow[] = []
    const cache = createCache({ redisUrl: server.url, prefix: 'bench-tiered:', defaultTtl: '1h' })
    // Same L2 keys, but an L1 of one entry: cycling through KEYS, every get misses L1 and fills it from L2.
    const coldL1 = createCache({
      redisUrl: server.url,
      prefix: 'bench-tiered:',
      defaultTtl: '1h',
      l1: { maxEntries: 1 },
    })
    // A/B of the L1 fill on an L2 hit, no bus: MemoryStore.fill (takes over the decoded value) against
    // the copy path (`fill` hidden, so TieredStore uses set: stringify + byteLength + parse + freeze).
    const direct = (fill: boolean) => {
      const l1 = new MemoryStore({ maxEntries: 1 })
      if (!fill) Object.defineProperty(l1, 'fill', { value: undefined })
      const l2 = new RedisStore({ url: server.url, prefix: 'bench-tiered:' })
      return new Cache({ store: new TieredStore({ l1, l2 }), defaultTtl: '1h' })
    }
    const withFill = direct(true)
    const withCopy = direct(false)
    const l2Only = new Cache({
      store: new RedisStore({ url: server.url, prefix: 'bench-l2:' }),
      defaultTtl: '1h',
    })
    let child: ChildProcess | undefined
    try {
      await (cache.store as TieredStore).ready(10_000)
      await (coldL1.store as TieredStore).ready(10_000)
      const keys = Array.from({ length: KEYS }, (_, i) => `thermal:rack:${i}:a1b2c3d4`)
      const lru = new LRUCache<string, object>({ max: 10_000 })
      for (const key of keys) {
        lru.set(key, value)
        await cache.set(key, value)
        await l2Only.set(key, value)
      }
      let i = 0
      const next = () => {
        i = (i + 1) % KEYS
        return keys[i]!
      }
      let cold = 0
      rows.push(
        ...(await measure('tiered', [
          { name: 'lru-cache get (raw)', fn: () => lru.get(next()) },
          { name: 'tiered Cache.get (L1 hit)', fn: () => cache.get(next()), baseline: 'lru-cache get (raw)' },
          {
            name: 'lru-cache get (raw), await',
            fn: async () => {
              await lru.get(next())
            },
          },
          {
            name: 'tiered Cache.get (L1 hit), await',
            fn: async () => {
              await cache.get(next())
            },
            baseline: 'lru-cache get (raw), await',
          },
        ])),
      )
      rows.push(
        ...(await measure(
          'tiered',
          [
            // One GET and one parse each; the tiered row also fills (and evicts from) its L1.
            { name: 'L2-only Cache.get (L2 hit)', fn: () => l2Only.get(next()) },
            {
              name: 'tiered Cache.get (L2 hit, L1 cold)',
              fn: () => coldL1.get(next()),
              baseline: 'L2-only Cache.get (L2 hit)',
            },
          ],
          { time: 1000, warmupTime: 200 },
        )),
      )
      rows.push(
        ...(await measure(
          'tiered',
          [
            // Each call a new key: L1 miss, L2 miss, loader, L2 write, L1 write, publish.
            {
              name: 'L2-only Cache.getOrSet (cold key)',
              fn: () => l2Only.getOrSet(`cold:${++cold}`, () => value),
            },
            {
              name: 'tiered Cache.getOrSet (cold key)',
              fn: () => cache.getOrSet(`cold:${++cold}`, () => value),
              baseline: 'L2-only Cache.getOrSet (cold key)',
            },
          ],
          { time: 1000, warmupTime: 200 },
        )),
      )

      rows.push(
        ...(await measure(
          'tiered',
          [
            { name: 'TieredStore get, L2 hit, L1 copies (no bus)', fn: () => withCopy.get(next()) },
            {
              name: 'TieredStore get, L2 hit, L1 fill (no bus)',
              fn: () => withFill.get(next()),
              baseline: 'TieredStore get, L2 hit, L1 copies (no bus)',
            },
          ],
          { time: 1000, warmupTime: 200 },
        )),
      )

      // Propagation: this process writes, a second process reads after each update.
      child = fork(fileURLToPath(import.meta.url), [], {
        env: { ...process.env, [CHILD_FLAG]: '1', STRATA_BENCH_REDIS_URL: server.url },
        execArgv: process.execArgv,
        serialization: 'advanced',
      })
      const messages: ((message: { type: string }) => void)[] = []
      child.on('message', (message: { type: string }) => messages.shift()?.(message))
      const nextMessage = () => new Promise<{ type: string }>((resolve) => messages.push(resolve))
      await nextMessage() // ready
      const ipc: number[] = []
      for (let r = 0; r < 50; r++) {
        const started = performance.now()
        child.send({ type: 'ping' })
        await nextMessage()
        ipc.push((performance.now() - started) / 2)
      }
      const latencies: number[] = []
      const key = 'propagation:1'
      for (let r = 0; r < ROUNDS; r++) {
        child.send({ type: 'arm', key, expected: r })
        await nextMessage() // armed: its L1 holds the previous value
        const seen = nextMessage()
        const started = performance.now()
        await cache.set(key, r)
        await seen
        latencies.push(performance.now() - started)
      }
      const p = percentiles(latencies)
      const hop = percentiles(ipc)
      const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length
      rows.push({
        suite: 'tiered',
        name: 'invalidation propagation to a 2nd process (set → its get sees the new value)',
        opsPerSec: 1000 / mean,
        meanNs: mean * 1e6,
        p99Ns: p.p99 * 1e6,
        samples: latencies.length,
        note: `p50 ${p.p50.toFixed(2)} ms, p99 ${p.p99.toFixed(2)} ms, max ${p.max.toFixed(2)} ms; includes one IPC hop (p50 ${hop.p50.toFixed(3)} ms)`,
      })
      return rows
    } finally {
      child?.send({ type: 'exit' })
      await cache.close()
      await coldL1.close()
      await withFill.close()
      await withCopy.close()
      await l2Only.close()
      await server.stop()
    }
  },
}

/** The second process: a tiered cache on the same Redis that reports when a watched key shows its expected value. */
async function runChild(): Promise<void> {
  const cache = createCache({
    redisUrl: process.env.STRATA_BENCH_REDIS_URL!,
    prefix: 'bench-tiered:',
    defaultTtl: '1h',
  })
  await (cache.store as TieredStore).ready(10_000)
  let watch: { key: string; expected: unknown } | undefined
  const check = async () => {
    const current = watch
    if (current === undefined) return
    if ((await cache.get(current.key)) === current.expected && watch === current) {
      watch = undefined
      process.send?.({ type: 'seen' })
    }
  }
  cache.on('invalidate', () => void check())
  process.on('message', async (message: { type: string; key: string; expected: unknown }) => {
    if (message.type === 'ping') process.send?.({ type: 'pong' })
    else if (message.type === 'arm') {
      await cache.get(message.key)
      watch = { key: message.key, expected: message.expected }
      process.send?.({ type: 'armed' })
    } else if (message.type === 'exit') {
      await cache.close()
      process.exit(0)
    }
  })
  process.on('disconnect', () => process.exit(0))
  process.send?.({ type: 'ready' })
}

if (process.env[CHILD_FLAG] === '1') void runChild()
