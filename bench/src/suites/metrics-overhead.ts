import { Cache, keyPatternOf } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { prometheusMetrics } from '@strata-cache/metrics'
import { Counter, Registry } from 'prom-client'
import { type BenchRow, type BenchSuite, measure, type Task } from '../harness.ts'

// Issue 5: the cost of Prometheus on an L1-hit Cache.get, against the same cache without it, same run.
const KEYS = 1_000
const PATTERNS = 10
const value = {
  id: 1,
  name: 'rack-1',
  units: Array.from({ length: 20 }, (_, i) => ({ u: i, watts: 100 + i })),
}

async function filledCache(keys: readonly string[]): Promise<Cache> {
  const cache = new Cache({ store: new MemoryStore({ maxEntries: 10_000 }), defaultTtl: '1h' })
  for (const key of keys) await cache.set(key, value)
  return cache
}

export const suite: BenchSuite = {
  name: 'metrics-overhead',
  async run() {
    const keys = Array.from({ length: KEYS }, (_, i) => `svc${i % PATTERNS}:rack:${i}:a1b2c3d4`)
    const plain = await filledCache(keys)
    const instrumented = await filledCache(keys)
    const detached = await filledCache(keys)
    const naive = await filledCache(keys)
    const empty = await filledCache(keys)

    const registry = new Registry()
    prometheusMetrics(instrumented, { registry, cacheName: 'instrumented' })
    // Attached then detached: must cost what no metrics cost.
    prometheusMetrics(detached, { registry, cacheName: 'detached' })()
    // For comparison, the obvious listener: a prom-client labels() lookup and inc() per hit.
    const naiveHits = new Counter({
      name: 'naive_cache_hits_total',
      help: 'per-hit labels().inc(), for comparison only',
      labelNames: ['tier', 'key_pattern'],
      registers: [],
    })
    naive.on('hit', (e) => naiveHits.labels(e.tier, keyPatternOf(e.key)).inc())
    // The core's share: building and emitting the hit event to a listener that does nothing.
    empty.on('hit', () => {})

    let i = 0
    const next = () => {
      i = (i + 1) % KEYS
      return keys[i]!
    }
    const base = 'Cache.get L1 hit, no metrics'
    const tasks: Task[] = [
      { name: base, fn: () => plain.get(next()) },
      {
        name: 'Cache.get L1 hit, prometheusMetrics attached',
        fn: () => instrumented.get(next()),
        baseline: base,
      },
      { name: 'Cache.get L1 hit, empty hit listener', fn: () => empty.get(next()), baseline: base },
      { name: 'Cache.get L1 hit, attached then detached', fn: () => detached.get(next()), baseline: base },
      {
        name: 'Cache.get L1 hit, naive labels().inc() listener',
        fn: () => naive.get(next()),
        baseline: base,
      },
    ]
    // This machine is shared: three rounds, and each row reported from its median round.
    const rounds: BenchRow[][] = []
    for (let r = 0; r < 3; r++)
      rounds.push(await measure('metrics-overhead', tasks, { time: 800, warmupTime: 200 }))
    const rows = tasks.map((_task, t) => {
      const candidates = rounds
        .map((round) => round[t]!)
        .sort((a, b) => (a.slowdown ?? a.opsPerSec) - (b.slowdown ?? b.opsPerSec))
      const median = candidates[1]!
      const ratios = candidates.map((c) => c.slowdown?.toFixed(2)).filter((x) => x !== undefined)
      return ratios.length > 0 ? { ...median, note: `(median of 3 rounds: ${ratios.join(', ')})` } : median
    })
    // What a scrape of this registry costs (10 patterns, one tier).
    const scrape = await measure(
      'metrics-overhead',
      [{ name: 'registry.metrics() scrape', fn: () => registry.metrics() }],
      {
        time: 500,
      },
    )
    for (const cache of [plain, instrumented, empty, detached, naive]) await cache.close()
    return [...rows, ...scrape]
  },
}
