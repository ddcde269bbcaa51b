import type { CacheEntry } from '@strata-cache/core'
import { describeStoreConformance } from '@strata-cache/test-suite'
import { type RedisCluster, startRedisCluster } from '@strata-cache/test-suite/redis-server'
import { steady } from '@strata-cache/test-suite/testing'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { commandCalls, entry, TEST_COMMAND_TIMEOUT, uniquePrefix } from './helpers.ts'

// One 3-master cluster (redis-cli --cluster create) for the whole file: starting it takes seconds.
let cluster: RedisCluster
let raw: Cluster
const stores: RedisStore[] = []

function makeStore(prefix = uniquePrefix('c')): RedisStore {
  const store = new RedisStore({
    cluster: { nodes: cluster.nodes },
    prefix,
    commandTimeout: TEST_COMMAND_TIMEOUT,
  })
  stores.push(store)
  return store
}

beforeAll(async () => {
  cluster = await startRedisCluster()
  raw = new Cluster(cluster.nodes as never)
})

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()))
  raw?.disconnect()
  await cluster?.stop()
})

describeStoreConformance({
  name: 'RedisStore (3-master cluster)',
  createStore: async ({ prefix, now }) => {
    const store = new RedisStore({
      cluster: { nodes: cluster.nodes },
      prefix,
      now,
      commandTimeout: TEST_COMMAND_TIMEOUT,
    })
    await store.ready()
    return store
  },
  capabilities: { sharedAcrossInstances: true, survivesRestart: true, injectableClock: true },
})

/** Which master holds each key, to prove a batch really spans nodes. */
async function mastersOf(keys: readonly string[]): Promise<Set<number>> {
  const ports = new Set<number>()
  const slots = await raw.cluster('SLOTS')
  for (const key of keys) {
    const slot = Number(await raw.cluster('KEYSLOT', key))
    const owner = slots.find(([from, to]) => slot >= from && slot <= to)
    if (owner?.[2]) ports.add(owner[2][1])
  }
  return ports
}

describe('RedisStore on a cluster: connecting', () => {
  it('connects once: no drop and redo of its first connection, and every master warmed', async () => {
    // The node warm-up connected nodes while ioredis connected them too, and the client then
    // dropped and redid its first connection (a third of fresh clients): ready, then not.
    const fresh = Array.from({ length: 12 }, () => makeStore())
    const drops = fresh.map((store) => {
      const seen: string[] = []
      const client = store.client as Cluster
      for (const event of ['close', 'reconnecting'] as const) client.on(event, () => seen.push(event))
      return seen
    })
    await Promise.all(fresh.map((store) => store.ready()))
    for (const store of fresh) {
      const client = store.client as Cluster
      await steady(() => client.nodes('master').every((node) => node.status === 'ready'))
    }
    expect(drops.flat()).toEqual([])
    expect(fresh.every((store) => store.isAvailable())).toBe(true)
  })
})

describe('RedisStore on a cluster: slot-aware batches and every-master scans', () => {
  const keys = Array.from({ length: 100 }, (_, i) => `item:${i}`)

  it('setMany and getMany of 100 keys across every master', async () => {
    const store = makeStore()
    expect((await mastersOf(keys.map((k) => store.keyFor(k)))).size).toBe(3)
    await store.setMany(keys.map((k, i): [string, CacheEntry<number>] => [k, entry(i)]))
    const got = await store.getMany<number>([...keys, 'absent'])
    expect(got.map((e) => e?.value)).toEqual([...keys.map((_, i) => i), undefined])
  })

  it('deletePattern and clear reach every master and leave another prefix alone', async () => {
    const store = makeStore()
    const other = makeStore()
    await store.setMany(keys.map((k, i): [string, CacheEntry<number>] => [k, entry(i, { tags: ['t'] })]))
    await other.setMany(keys.map((k, i): [string, CacheEntry<number>] => [k, entry(i)]))
    expect(await store.deletePattern('item:1?')).toBe(10)
    await store.clear()
    expect((await store.getMany(keys)).every((e) => e === undefined)).toBe(true)
    expect(await raw.exists(store.tagKeyFor('t'))).toBe(0)
    expect((await other.getMany(keys)).every((e) => e !== undefined)).toBe(true)
  })

  it('deleteTags finds keys on other slots than their tag set, without a keyspace SCAN', async () => {
    const store = makeStore()
    await store.setMany(
      keys.map((k, i): [string, CacheEntry<number>] => [k, entry(i, { tags: i % 2 ? ['odd'] : ['even'] })]),
    )
    const masters = raw.nodes('master')
    const scans = async () => {
      let total = 0
      for (const node of masters) total += commandCalls(await node.info('commandstats'), 'scan')
      return total
    }
    const before = await scans()
    expect(await store.deleteTags(['odd'])).toBe(50)
    expect(await scans()).toBe(before)
    const left = await store.getMany<number>(keys)
    expect(left.filter((e) => e !== undefined).map((e) => e!.value % 2)).toEqual(Array(50).fill(0))
  })

  it('setFollowedBy only writes (a follow-up may reach another node than the key)', async () => {
    const store = makeStore()
    let asked = 0
    const followed = await store.setFollowedBy('item:pub', entry(7), async () => {
      asked++
    })
    expect(followed).toBe(false)
    expect(asked).toBe(0)
    expect(store.canFollowWrites).toBe(false)
    expect((await store.get<number>('item:pub'))?.value).toBe(7)
  })

  it('stats sum INFO over the masters', async () => {
    const store = makeStore()
    await store.set('k', entry('v'))
    await store.get('k')
    const [stats] = await store.stats()
    expect(stats).toMatchObject({ tier: 'redis', available: true })
    expect(stats!.details).toMatchObject({
      keyspaceHits: expect.any(Number),
      usedMemoryHuman: expect.stringMatching(/^[\d.]+[BKMG]$/),
    })
    expect(stats!.details!.connectedClients as number).toBeGreaterThanOrEqual(3)
  })
})
