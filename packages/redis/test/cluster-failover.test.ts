import type { CacheEntry } from '@strata-cache/core'
import {
  killMasterOf,
  type RedisCluster,
  startRedisCluster,
  waitForClusterFailover,
} from '@strata-cache/test-suite/redis-server'
import { sleep } from '@strata-cache/test-suite/testing'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { commandCalls, entry, TEST_COMMAND_TIMEOUT, uniquePrefix } from './helpers.ts'

// A 3-master cluster with a replica each (cluster-node-timeout 1 s): batches per slot, and pattern,
// tag and clear removals that reach every master, the promoted ones included. Skipped on a cluster
// we did not start (REDIS_CLUSTER_NODES): it kills a master.
const external = Boolean(process.env.REDIS_CLUSTER_NODES)

describe.skipIf(external)(
  'RedisStore on a 3+3 cluster (skipped when REDIS_CLUSTER_NODES names a cluster we must not kill masters of)',
  () => {
    let cluster: RedisCluster
    let raw: Cluster
    const stores: RedisStore[] = []
    const keys = Array.from({ length: 90 }, (_, i) => `item:${i}`)

    function makeStore(prefix: string): RedisStore {
      const store = new RedisStore({
        cluster: { nodes: cluster.nodes },
        prefix,
        commandTimeout: TEST_COMMAND_TIMEOUT,
      })
      stores.push(store)
      return store
    }

    async function calls(command: string): Promise<number> {
      let total = 0
      for (const node of raw.nodes('master')) total += commandCalls(await node.info('commandstats'), command)
      return total
    }

    beforeAll(async () => {
      cluster = await startRedisCluster({ replicas: 1, nodeTimeoutMs: 1000 })
      raw = new Cluster(cluster.nodes as never)
      await raw.ping()
    }, 60_000)

    afterAll(async () => {
      await Promise.all(stores.map((s) => s.close()))
      raw?.disconnect()
      await cluster?.stop()
    })

    it('reads a batch with one MGET per slot, never one GET per key', async () => {
      const spread = makeStore(uniquePrefix('spread'))
      const shard = makeStore(`{${uniquePrefix('shard')}}`)
      for (const store of [spread, shard]) {
        await store.setMany(keys.map((k, i): [string, CacheEntry<number>] => [k, entry(i)]))
      }
      const slots = new Set(keys.map((k) => spread.keyFor(k))).size // 90 keys, ~90 slots
      const [mgets, gets] = [await calls('mget'), await calls('get')]
      expect((await shard.getMany<number>(keys)).map((e) => e?.value)).toEqual(keys.map((_, i) => i))
      expect(await calls('mget')).toBe(mgets + 1) // a hash-tagged prefix: every key in one slot
      expect((await spread.getMany<number>(keys)).map((e) => e?.value)).toEqual(keys.map((_, i) => i))
      expect(await calls('mget')).toBeGreaterThan(mgets + 1)
      expect(await calls('mget')).toBeLessThanOrEqual(mgets + 1 + slots)
      expect(await calls('get')).toBe(gets)
    })

    it('removes a pattern, tags and the prefix on every master, the one promoted a moment ago included', async () => {
      const store = makeStore(uniquePrefix('fo'))
      const other = makeStore(uniquePrefix('fo'))
      for (const s of [store, other])
        await s.setMany(keys.map((k, i): [string, CacheEntry<number>] => [k, entry(i, { tags: ['t'] })]))
      await sleep(200) // replication is asynchronous: let the replicas have it all
      const { killed, slots } = await killMasterOf(cluster, store.keyFor('item:0'))
      await waitForClusterFailover(cluster, killed, slots)
      // The stores' slot maps still name the dead master: the scan must look again and reach its replica.
      expect(await store.invalidate({ kind: 'pattern', pattern: 'item:1*' })).toEqual({
        applied: true,
        removed: 11,
      })
      expect(await store.invalidate({ kind: 'tags', tags: ['t'] })).toEqual({ applied: true, removed: 79 })
      expect((await store.getMany(keys)).every((e) => e === undefined)).toBe(true)
      // The other store learns of the promotion by itself, from its failed reads.
      await vi.waitFor(
        async () => expect((await other.getMany(keys)).every((e) => e !== undefined)).toBe(true),
        {
          timeout: 10_000,
          interval: 100,
        },
      )
      expect(await other.invalidate({ kind: 'clear' })).toMatchObject({ applied: true })
      expect((await other.getMany(keys)).every((e) => e === undefined)).toBe(true)
    })
  },
)
