import { Cache } from '@strata-cache/core'
import { compileGlob, type GlobMatchCounter } from '@strata-cache/core/internal'
import { MemoryStore } from '@strata-cache/memory'
import { startRedisServer } from '@strata-cache/test-suite/redis-server'
import { createCache, type TieredStore } from '@strata-cache/tiered'
import { type BenchRow, type BenchSuite, percentiles } from '../harness.ts'

// Issue 13: a glob compiled to a backtracking RegExp took ~150 ms on one 32-character key for
// `*?*?*?*?*?*?*?*?Z` and over 20 s on one 74-character key for `*a*a*a*a*a*a*a*a*b`. Each pattern
// here goes through invalidate() with 2,000 keys of 256 characters in L1 (memory only, and tiered:
// L1 + Redis's SCAN MATCH + the bus), REPEATS times; the claim is under 250 ms each.
const KEYS = 2000
const KEY_LENGTH = 256
const REPEATS = 5
// Ending in Z or b, so the issue's patterns get past the cheap tail check and run the matcher.
const keys = Array.from(
  { length: KEYS },
  (_, i) => `fill:${String(i).padStart(KEY_LENGTH - 6, 'a')}${i % 2 === 0 ? 'Z' : 'b'}`,
)

/** The issue's patterns, and the costliest for the matcher of those shaped to defeat it (16 wildcards at most). */
const patterns = [
  '*?*?*?*?*?*?*?*?Z',
  '*a*a*a*a*a*a*a*a*b',
  `*a*a*a*a*a*a*a*a*${'a'.repeat(200)}?`,
  `*${'a'.repeat(240)}?`,
  `${'?'.repeat(8)}*a*a*a*a*a*a*a*${'a'.repeat(100)}`,
]

export const suite: BenchSuite = {
  name: 'hostile-patterns',
  async run() {
    const rows: BenchRow[] = []
    const server = await startRedisServer({ ownServer: true })
    const memory = new Cache({ store: new MemoryStore({ maxEntries: 10_000 }), defaultTtl: '1h' })
    const tiered = createCache({ redisUrl: server.url, prefix: 'bench-hostile:', defaultTtl: '1h' })
    try {
      await (tiered.store as TieredStore).ready(10_000)
      for (const [tier, cache] of [
        ['memory', memory],
        ['tiered', tiered],
      ] as const) {
        for (const pattern of patterns) {
          const times: number[] = []
          for (let r = 0; r < REPEATS; r++) {
            await Promise.all(keys.map((key) => cache.set(key, 1)))
            const started = performance.now()
            await cache.invalidate(pattern)
            times.push(performance.now() - started)
          }
          const counter: GlobMatchCounter = { steps: 0 }
          const match = compileGlob(pattern)
          for (const key of keys) match(key, counter)
          const p = percentiles(times)
          const mean = times.reduce((a, b) => a + b, 0) / times.length
          rows.push({
            suite: 'hostile-patterns',
            name: `invalidate("${pattern.length > 30 ? `${pattern.slice(0, 27)}…` : pattern}") over ${KEYS} keys of ${KEY_LENGTH} chars, ${tier}`,
            opsPerSec: 1000 / mean,
            meanNs: mean * 1e6,
            samples: times.length,
            note: `median ${p.p50.toFixed(1)} ms, max ${p.max.toFixed(1)} ms (${p.max < 250 ? 'under' : 'OVER'} 250 ms); matcher ${counter.steps} word steps over the keys`,
          })
        }
      }
      return rows
    } finally {
      await memory.close()
      await tiered.close()
      await server.stop()
    }
  },
}
