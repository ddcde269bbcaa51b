import { type Cache, CacheError } from '@strata-cache/core'
import { keySlot } from '@strata-cache/redis/internal'
import { describeStoreConformance } from '@strata-cache/test-suite'
import { type RedisCluster, startRedisCluster } from '@strata-cache/test-suite/redis-server'
import { Cluster, Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../src/create-cache.ts'
import { RedisBus } from '../src/redis-bus.ts'
import type { TieredStore } from '../src/tiered-store.ts'
import { until } from './helpers/wait.ts'

// createCache on a 3-master cluster: L2 over every master, the bus on sharded pub/sub, the lock in the entry's slot.
let cluster: RedisCluster
let raw: Cluster
const caches: Cache[] = []
let counter = 0

beforeAll(async () => {
  cluster = await startRedisCluster()
  raw = new Cluster(cluster.nodes as never)
})
afterAll(async () => {
  raw?.disconnect()
  await cluster?.stop()
})
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})

function prefix(label: string): string {
  return `${label}${process.pid}x${++counter}:`
}

async function clusterCache(p: string, options: Parameters<typeof createCache>[0] = {}): Promise<Cache> {
  const cache = createCache({ cluster: { nodes: cluster.nodes }, prefix: p, defaultTtl: '1m', ...options })
  caches.push(cache)
  const store = cache.store as TieredStore
  expect(await store.ready(10_000)).toBe(true)
  return cache
}

/** The port of the master that owns `key`'s slot. */
async function ownerPort(key: string): Promise<number> {
  const slot = keySlot(key)
  const slots = await raw.cluster('SLOTS')
  return slots.find(([from, to]) => slot >= from && slot <= to)![2]![1]
}

describeStoreConformance({
  name: 'TieredStore from createCache on a 3-master cluster',
  createStore: async ({ prefix: p, now }) => {
    // A 1 s deadline, as the redis package's functional tests: a loaded CI machine must not turn a slow answer into a miss.
    const cache = createCache({
      cluster: { nodes: cluster.nodes },
      prefix: p,
      now,
      redis: { commandTimeout: '1s' },
    })
    const store = cache.store as TieredStore
    await store.ready(10_000)
    return store
  },
  capabilities: { sharedAcrossInstances: true, survivesRestart: true, injectableClock: true },
})

describe('createCache on a cluster', () => {
  it('runs the bus on sharded pub/sub, subscribed on the master that owns the channel slot', async () => {
    const p = prefix('shard')
    await clusterCache(p)
    const owner = new Redis(await ownerPort(`${p}bus`), '127.0.0.1')
    try {
      const [, count] = (await owner.call('PUBSUB', 'SHARDNUMSUB', `${p}bus`)) as [string, number]
      expect(count).toBe(1)
      expect(await owner.call('PUBSUB', 'NUMSUB', `${p}bus`)).toEqual([`${p}bus`, 0])
    } finally {
      owner.disconnect()
    }
  })

  it('carries sets, deletes, patterns, tags and clears to another cache', async () => {
    const p = prefix('inv')
    const [a, b] = [await clusterCache(p), await clusterCache(p)]
    const keys = Array.from({ length: 12 }, (_, i) => `item:${i}`)
    for (const key of keys) await a.set(key, `v1:${key}`, { tags: [key.endsWith('1') ? 'one' : 'other'] })
    expect(await b.getMany(keys)).toEqual(keys.map((k) => `v1:${k}`)) // now in b's L1
    await a.set('item:0', 'v2')
    await until(async () => (await b.get('item:0')) === 'v2', 5000, 'set reaches b')
    await a.delete('item:2')
    await until(async () => (await b.get('item:2')) === undefined, 5000, 'delete reaches b')
    expect(await a.invalidate('item:1*')).toBe(3) // item:1, item:10, item:11
    await until(async () => (await b.get('item:10')) === undefined, 5000, 'pattern reaches b')
    expect(await a.invalidateTags(['other'])).toBe(7) // 3..9 (2 is gone, 0 was rewritten without tags)
    await until(async () => (await b.get('item:5')) === undefined, 5000, 'tags reach b')
    expect(await b.get('item:0')).toBe('v2')
    await a.clear()
    await until(async () => (await b.get('item:0')) === undefined, 5000, 'clear reaches b')
  })

  it('takes the lock in the slot of the entry, so one loader runs across caches', async () => {
    const p = prefix('lock')
    const [a, b] = [await clusterCache(p), await clusterCache(p)]
    let loads = 0
    const loader = async () => {
      loads++
      await new Promise((resolve) => setTimeout(resolve, 150))
      return 'loaded'
    }
    const values = await Promise.all([
      a.getOrSet('hot', loader, { lock: true }),
      b.getOrSet('hot', loader, { lock: true }),
    ])
    expect(values).toEqual(['loaded', 'loaded'])
    expect(loads).toBe(1)
  })

  it("treats the bus channel's slot moving to another master as a drop, and follows it there", async () => {
    const p = prefix('moved')
    const [a, b] = [await clusterCache(p), await clusterCache(p)]
    // The first commands on a new cluster client can miss their 100 ms deadline on a loaded host
    // (a miss, by design): the precondition is only that b holds v1 in its L1.
    await until(
      async () => {
        await a.set('k', 'v1')
        return (await b.get('k')) === 'v1'
      },
      5000,
      'b reads v1 into its L1',
    )
    const bus = (b.store as TieredStore).bus!
    const before = bus.counters().reconnects
    const slot = keySlot(`${p}bus`)
    const from = new Redis(await ownerPort(`${p}bus`), '127.0.0.1')
    const to = new Redis(cluster.nodes.find((n) => n.port !== from.options.port)!.port, '127.0.0.1')
    try {
      // Move the slot as a resharding does (it holds no key: nothing to MIGRATE).
      const [fromId, toId] = [String(await from.cluster('MYID')), String(await to.cluster('MYID'))]
      await to.cluster('SETSLOT', slot, 'IMPORTING', fromId)
      await from.cluster('SETSLOT', slot, 'MIGRATING', toId)
      await to.cluster('SETSLOT', slot, 'NODE', toId)
      await from.cluster('SETSLOT', slot, 'NODE', toId)
      await until(() => bus.counters().reconnects > before && bus.isConnected(), 10_000, 'the bus reconnects')
      const [, count] = (await to.call('PUBSUB', 'SHARDNUMSUB', `${p}bus`)) as [string, number]
      expect(count).toBe(2) // both caches now subscribed on the new owner
      expect((b.store as TieredStore).peek('k')).toBeUndefined() // what b held was purged
      await b.get('k')
      await a.set('k', 'v2')
      await until(async () => (await b.get('k')) === 'v2', 5000, 'a set reaches b through the new owner')
    } finally {
      from.disconnect()
      to.disconnect()
    }
  })

  it('refuses more than one of redisUrl, cluster and sentinel, and a malformed one', () => {
    const error = (run: () => unknown) => {
      try {
        run()
      } catch (e) {
        expect(CacheError.is(e)).toBe(true)
        return (e as CacheError).message
      }
      throw new Error('expected a CacheError')
    }
    expect(error(() => createCache({ redisUrl: 'redis://x:1', cluster: { nodes: cluster.nodes } }))).toMatch(
      /exactly one of "redisUrl", "cluster", "sentinel" \(got redisUrl, cluster\)/,
    )
    expect(
      error(() =>
        createCache({ cluster: { nodes: cluster.nodes }, sentinel: { sentinels: [{ port: 1 }], name: 'm' } }),
      ),
    ).toMatch(/exactly one/)
    expect(error(() => createCache({ cluster: { nodes: [] } }))).toMatch(/"cluster" needs/)
    expect(error(() => createCache({ sentinel: { sentinels: [], name: 'm' } }))).toMatch(/"sentinel" needs/)
    expect(error(() => new RedisBus({ url: 'redis://x:1', cluster: { nodes: cluster.nodes } }))).toMatch(
      /"url" or "cluster"/,
    )
  })
})
