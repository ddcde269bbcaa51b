// The embedded default: a Cache over an in-process LRU, no Redis needed.
// Run it with `pnpm example` from the repository root.
import { Cache, defineKey, hashParams } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'

const cache = new Cache({ store: new MemoryStore({ maxEntries: 10_000 }), defaultTtl: '5m', grace: '1h' })
const thermalKey = defineKey('thermal:rack:{rackId}:{hash}')

let computations = 0
async function analyseRack(rackId: number, params: { ambientC: number }) {
  computations++
  await new Promise((resolve) => setTimeout(resolve, 200)) // a slow computation
  return { rackId, hotspots: [12, 13], inletC: params.ambientC + 4.5 }
}

const params = { ambientC: 22 }
const key = thermalKey({ rackId: 42, hash: hashParams(params) })

let started = performance.now()
const cold = await cache.getOrSet(key, () => analyseRack(42, params))
console.log(`cold: ${(performance.now() - started).toFixed(1)} ms`, cold)

started = performance.now()
await cache.getOrSet(key, () => analyseRack(42, params))
console.log(`warm: ${(performance.now() - started).toFixed(3)} ms`)

// 100 concurrent callers on a cold key share one computation.
await Promise.all(
  Array.from({ length: 100 }, () =>
    cache.getOrSet(thermalKey({ rackId: 7, hash: 'x' }), () => analyseRack(7, params)),
  ),
)
console.log(`computations so far: ${computations} (1 + 1 for 100 concurrent callers)`)

// A write to rack 42 invalidates every cached analysis of it.
console.log('invalidated:', await cache.invalidate(thermalKey.pattern({ rackId: 42 })))

const stats = await cache.stats()
console.log(`hits ${stats.hits}, misses ${stats.misses}, hit rate ${(stats.hitRate * 100).toFixed(1)} %`)
console.log('health:', (await cache.health()).status)
await cache.close()
