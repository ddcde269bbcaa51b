import {
  killMasterOf,
  masterOf,
  type RedisCluster,
  startRedisCluster,
  waitForClusterFailover,
} from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type FailoverPod,
  type FailoverPodStatus,
  type LoadFigures,
  startFailoverPod,
} from './helpers/failover-pods.ts'
import { sleep, until } from './helpers/wait.ts'

// Three pods (processes) on a 3-master cluster with a replica each and cluster-node-timeout 1 s; the
// tests SIGKILL masters under a mixed load. Skipped on a cluster we did not start (REDIS_CLUSTER_NODES).
const external = Boolean(process.env.REDIS_CLUSTER_NODES)
const NODE_TIMEOUT_MS = 1000
/** The slowest any caller may wait for one cache call while a master fails over. */
const CALL_BOUND_MS = 2000
const prefix = 'fo:'

describe.skipIf(external)(
  'three pods on a 3+3 cluster, masters SIGKILLed under load (skipped when REDIS_CLUSTER_NODES names a cluster we must not kill masters of)',
  () => {
    let cluster: RedisCluster
    let pods: FailoverPod[] = []
    /** A key whose master is not the bus channel's, and another key of that master. */
    let hot = ''
    let sameShard = ''

    beforeAll(async () => {
      cluster = await startRedisCluster({ replicas: 1, nodeTimeoutMs: NODE_TIMEOUT_MS })
      const busMaster = await masterOf(cluster, `${prefix}bus`)
      for (let i = 0; hot === ''; i++) {
        if ((await masterOf(cluster, `${prefix}hot:${i}`)) !== busMaster) hot = `hot:${i}`
      }
      const hotMaster = await masterOf(cluster, prefix + hot)
      for (let i = 0; sameShard === ''; i++) {
        if ((await masterOf(cluster, `${prefix}probe:${i}`)) === hotMaster) sameShard = `probe:${i}`
      }
      pods = await Promise.all(
        ['pod-a', 'pod-b', 'pod-c'].map((name) =>
          startFailoverPod(name, { cluster: { nodes: cluster.nodes }, prefix }),
        ),
      )
    }, 60_000)

    afterAll(async () => {
      await Promise.all(pods.map((pod) => pod.stop()))
      await cluster?.stop()
    })

    async function stopLoads(): Promise<LoadFigures[]> {
      return Promise.all(pods.map((pod) => pod.call<LoadFigures>('stopLoad')))
    }

    function expectBounded(figures: LoadFigures[]): void {
      for (const f of figures) {
        expect(f.errors, f.samples.join('; ')).toBe(0)
        expect(f.ops).toBeGreaterThan(50)
        for (const [kind, ms] of Object.entries(f.slowestMs)) expect(ms, kind).toBeLessThan(CALL_BOUND_MS)
      }
    }

    /** Waits until no pod holds a removal L2 has not confirmed. */
    async function repaired(): Promise<void> {
      let last: FailoverPodStatus[] = []
      await until(
        async () => {
          last = await Promise.all(pods.map((pod) => pod.call<FailoverPodStatus>('status')))
          return last.every((s) => s.l2Available && s.repairs.pending === 0)
        },
        15_000,
        'every pod has L2 back and no repair left',
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}: ${JSON.stringify(last)}`)
      })
    }

    it('sets, deletes, patterns, tags and clears on one pod reach every other pod', async () => {
      const [a, b, c] = pods as [FailoverPod, FailoverPod, FailoverPod]
      const keys = Array.from({ length: 12 }, (_, i) => `item:${i}`)
      for (const key of keys)
        await a.call('set', { key, value: `v1:${key}`, tags: [key.endsWith('1') ? 'one' : 'other'] })
      const everyone = (key: string, expected: unknown) =>
        until(
          async () =>
            (await Promise.all([b, c].map((p) => p.call('get', { key })))).every((v) => v === expected),
          5000,
          `${key} is ${String(expected)} on every pod`,
        )
      for (const key of keys) await everyone(key, `v1:${key}`) // now in B's and C's L1
      await a.call('set', { key: 'item:0', value: 'v2' })
      await everyone('item:0', 'v2')
      await a.call('delete', { key: 'item:2' })
      await everyone('item:2', undefined)
      expect(await a.call('invalidate', { pattern: 'item:1*' })).toBe(3)
      for (const key of ['item:1', 'item:10', 'item:11']) await everyone(key, undefined)
      expect(await a.call('invalidateTags', { tags: ['other'] })).toBe(7)
      for (const key of ['item:3', 'item:9']) await everyone(key, undefined)
      await everyone('item:0', 'v2')
      await c.call('clear')
      await until(
        async () => (await a.call('get', { key: 'item:0' })) === undefined,
        5000,
        'a clear reaches a',
      )
      await everyone('item:0', undefined)
    })

    it('the hot key master: no caller error, calls bounded, writes land after the promotion, no stale L1', async () => {
      const [a, b, c] = pods as [FailoverPod, FailoverPod, FailoverPod]
      await a.call('set', { key: hot, value: 'v-old' })
      for (const pod of [b, c]) {
        expect(await pod.call('get', { key: hot })).toBe('v-old')
        expect(await pod.call('peek', { key: hot })).toBe('v-old')
      }
      await Promise.all(pods.map((pod) => pod.call('startLoad', { workers: 4 })))
      await sleep(300)
      const { killed, slots } = await killMasterOf(cluster, prefix + hot)
      const killedAt = Date.now()
      // Invalidated while its shard is down: L2 cannot take it now, the repair applies it later.
      await a.call('set', { key: hot, value: 'v-new' })
      const landed = b.call<number | undefined>('firstLandedWrite', { key: sameShard, timeoutMs: 20_000 })
      const { ms: failoverMs } = await waitForClusterFailover(cluster, killed, slots)
      const landedAt = await landed
      expect(landedAt).toBeDefined()
      await repaired()
      const figures = await stopLoads()
      expectBounded(figures)
      for (const pod of pods) {
        expect(await pod.call('get', { key: hot }), pod.name).not.toBe('v-old')
        expect(await pod.call('peek', { key: hot }), pod.name).not.toBe('v-old')
      }
      console.log(
        `[tiered] cluster failover of the hot key's master (cluster-node-timeout ${NODE_TIMEOUT_MS} ms): replica promoted ${failoverMs} ms after the SIGKILL, first write landed after ${landedAt! - killedAt} ms; slowest calls (ms) ${JSON.stringify(figures.map((f) => f.slowestMs))}; ops ${figures.map((f) => f.ops).join('/')}`,
      )
    }, 60_000)

    it("the bus channel's master: every pod sees the drop, follows the channel, and serves no invalidated L1 value", async () => {
      const [a, b, c] = pods as [FailoverPod, FailoverPod, FailoverPod]
      await a.call('set', { key: 'k', value: 'old' })
      for (const pod of [b, c]) expect(await pod.call('get', { key: 'k' })).toBe('old')
      const before = await Promise.all(pods.map((pod) => pod.call<FailoverPodStatus>('status')))
      await Promise.all(pods.map((pod) => pod.call('startLoad', { workers: 4 })))
      await sleep(300)
      const { killed, slots } = await killMasterOf(cluster, `${prefix}bus`)
      const killedAt = Date.now()
      await until(
        async () =>
          (await Promise.all([b, c].map((p) => p.call<FailoverPodStatus>('status')))).every(
            (s) => !s.busConnected,
          ),
        5000,
        'the pods see their bus drop',
      )
      const droppedMs = Date.now() - killedAt
      // Invalidated while nobody can hear it: queued by A, and B and C purge L1 when they hear again.
      await a.call('delete', { key: 'k' })
      const { ms: failoverMs } = await waitForClusterFailover(cluster, killed, slots)
      await until(
        async () =>
          (await Promise.all(pods.map((p) => p.call<FailoverPodStatus>('status')))).every(
            (s, i) => s.busConnected && s.bus.reconnects > before[i]!.bus.reconnects,
          ),
        15_000,
        'every pod subscribed again, on the promoted master',
      )
      const reconnectedMs = Date.now() - killedAt
      await repaired()
      const figures = await stopLoads()
      expectBounded(figures)
      for (const pod of pods) expect(await pod.call('get', { key: 'k' }), pod.name).toBeUndefined()
      // Delivery works again: an invalidation reaches the other pods.
      await b.call('get', { key: 'k2' })
      await a.call('set', { key: 'k2', value: 'after' })
      await until(async () => (await b.call('get', { key: 'k2' })) === 'after', 5000, 'a set reaches b')
      console.log(
        `[tiered] cluster failover of the bus channel's master (cluster-node-timeout ${NODE_TIMEOUT_MS} ms): drop seen after ${droppedMs} ms, replica promoted after ${failoverMs} ms, every pod subscribed again ${reconnectedMs} ms after the SIGKILL; slowest calls (ms) ${JSON.stringify(figures.map((f) => f.slowestMs))}`,
      )
    }, 60_000)
  },
)
