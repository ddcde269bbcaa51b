/**
 * cache-manager 7 on Strata's tiers: the cache-manager calls a service already makes, with
 * KeyvStrata as its store. Memory only by default; with REDIS_URL set, L1 + Redis + the
 * invalidation bus across processes:
 *
 *   node --conditions=@strata-cache/source --import tsx examples/cache-manager.ts
 *   REDIS_URL=redis://127.0.0.1:6379 node --conditions=@strata-cache/source --import tsx examples/cache-manager.ts
 *
 * (from packages/keyv; with the published packages, import from '@strata-cache/keyv').
 */
import { createCache as createStrataCache } from '@strata-cache/tiered'
import { createCache } from 'cache-manager'
import Keyv from 'keyv'
import { KeyvStrata } from '../src/index.ts'

const strata = createStrataCache({ redisUrl: process.env.REDIS_URL, prefix: 'example:', defaultTtl: '1h' })
const cache = createCache({ stores: [new Keyv({ store: new KeyvStrata(strata), namespace: 'shop' })] })

let loads = 0
const loadPrice = async (sku: string) => {
  loads++
  return { sku, price: 100 }
}

console.log('wrap  ', await cache.wrap('price:rack-42', () => loadPrice('rack-42'), 60_000))
console.log(
  'wrap  ',
  await cache.wrap('price:rack-42', () => loadPrice('rack-42'), 60_000),
  `(loads: ${loads})`,
)
await cache.mset([
  { key: 'stock:rack-42', value: 7 },
  { key: 'stock:rack-43', value: 0, ttl: 30_000 },
])
console.log('mget  ', await cache.mget(['stock:rack-42', 'stock:rack-43', 'stock:rack-44']))
const expires = (await cache.ttl('price:rack-42')) ?? Date.now()
console.log('ttl   ', `${Math.round((expires - Date.now()) / 1000)} s left`)
await cache.del('stock:rack-42')
console.log('del   ', await cache.get('stock:rack-42'))
await cache.clear() // the 'shop' namespace only: other keys of the Strata cache stay
console.log('clear ', await cache.get('price:rack-42'))
await cache.disconnect() // closes the Strata cache (its Redis connections, if any)
