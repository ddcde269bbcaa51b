import { Cache } from '@strata-cache/core'
import { RedisStore } from '@strata-cache/redis'
import { type CreateCacheOptions, createCache } from '@strata-cache/tiered'
import { type CompareCache, type Contender, L1_MAX_ENTRIES, TTL_MS } from './contender.ts'

/** Where a Strata contender's Redis is: the run's single node (its url), or the cluster `--cluster` started. */
type Target = (redisUrl: string) => Pick<CreateCacheOptions, 'redisUrl' | 'cluster'>

const singleNode: Target = (redisUrl) => ({ redisUrl })

/** `STRATA_BENCH_CLUSTER_NODES=host:port,...`, set by `bench:compare --cluster` for its 3-master cluster. */
const clusterNodes: Target = () => {
  const nodes = (process.env.STRATA_BENCH_CLUSTER_NODES ?? '').split(',').filter(Boolean)
  if (nodes.length === 0) throw new Error('strata-cluster runs only under bench:compare --cluster')
  return {
    cluster: {
      nodes: nodes.map((node) => {
        const [host, port] = node.split(':')
        return { host: host!, port: Number(port) }
      }),
    },
  }
}

function strata(id: string, label: string, lock: boolean, target: Target = singleNode): Contender {
  const where = target === singleNode ? 'redisUrl' : 'cluster: { nodes }'
  return {
    id,
    label,
    packages: ['@strata-cache/core', '@strata-cache/memory', '@strata-cache/redis', '@strata-cache/tiered'],
    setup: `createCache({ ${where}, l1: { maxEntries: ${L1_MAX_ENTRIES} }, defaultTtl: '10m'${lock ? ', lock: true' : ''} }): MemoryStore L1 + RedisStore L2 + RedisBus, everything else at its defaults${target === singleNode ? '' : ' (a 3-master cluster on loopback: the bus on sharded pub/sub)'}`,
    async create(redisUrl) {
      const cache = createCache({
        ...target(redisUrl),
        l1: { maxEntries: L1_MAX_ENTRIES },
        defaultTtl: TTL_MS,
        lock,
      })
      return adapt(cache)
    },
  }
}

/** The calls the scenarios use, on a Strata Cache, with what it absorbed instead of throwing. */
function adapt(cache: Cache): CompareCache {
  // What Strata absorbed (L2 timeouts, open breaker): shown next to the figures.
  const counts: Record<string, number> = {}
  const bump = (name: string) => {
    counts[name] = (counts[name] ?? 0) + 1
  }
  cache.on('error', (e) => bump(`${e.operation} ${(e.error as { code?: string })?.code ?? 'error'}`))
  cache.on('breaker', (e) => bump(`breaker ${e.state}`))
  return {
    diagnostics: () => counts,
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    getOrSet: (key, loader) => cache.getOrSet(key, loader),
    delete: async (key) => {
      await cache.delete(key)
    },
    close: () => cache.close(),
  }
}

/** Strata as `createCache({ redisUrl })` sets it up: L1 + L2 + bus. */
export const strataContender = strata('strata', 'Strata', false)

/** The same with `lock: true`: one loader per key across processes (run in the stampede scenario only). */
export const strataLockContender = strata('strata-lock', 'Strata (lock: true)', true)

/** `createCache({ cluster })` on the 3-master cluster that `bench:compare --cluster` starts. */
export const strataClusterContender = strata(
  'strata-cluster',
  'Strata (3-master cluster)',
  false,
  clusterNodes,
)

/**
 * Reference for issue 15's L2 goal: a Cache over RedisStore alone (no L1, no bus), defaults
 * otherwise. What `createCache` should approach on a read-once L2 hit; not a peer to beat.
 */
export const strataRedisOnlyContender: Contender = {
  id: 'strata-redis-only',
  label: 'Strata, Cache over RedisStore alone',
  packages: ['@strata-cache/core', '@strata-cache/redis'],
  setup:
    "new Cache({ store: new RedisStore({ url }), defaultTtl: '10m' }): no L1, no bus, everything else at its defaults",
  async create(redisUrl) {
    return adapt(new Cache({ store: new RedisStore({ url: redisUrl }), defaultTtl: TTL_MS }))
  },
}
