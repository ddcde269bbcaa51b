import { type RedisSentinelSet, startRedisSentinelSet } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type FailoverPod,
  type FailoverPodStatus,
  type LoadFigures,
  startFailoverPod,
} from './helpers/failover-pods.ts'
import { sleep, until } from './helpers/wait.ts'

// Three pods (processes) through a Sentinel set: 3 sentinels, a master and a replica, with
// down-after-milliseconds 1 s; the master is SIGKILLed under a mixed load. Skipped when REDIS_URL
// names a server we did not start (the other Redis tests' rule).
const external = Boolean(process.env.REDIS_URL)
const DOWN_AFTER_MS = 1000
const CALL_BOUND_MS = 2000

describe.skipIf(external)(
  'three pods through Sentinel, the master SIGKILLed under load (skipped when REDIS_URL names a server we do not own)',
  () => {
    let set: RedisSentinelSet
    let pods: FailoverPod[] = []

    beforeAll(async () => {
      set = await startRedisSentinelSet({ password: 's3cret', downAfterMs: DOWN_AFTER_MS })
      const sentinel = { sentinels: set.sentinelAddresses, name: set.name, password: 's3cret' }
      pods = await Promise.all(
        ['pod-a', 'pod-b', 'pod-c'].map((name) => startFailoverPod(name, { sentinel, prefix: 'sfo:' })),
      )
    }, 60_000)

    afterAll(async () => {
      await Promise.all(pods.map((pod) => pod.stop()))
      await set?.stop()
    })

    it('no caller error, calls bounded, the pods follow the promoted replica, no invalidated L1 value served', async () => {
      const [a, b, c] = pods as [FailoverPod, FailoverPod, FailoverPod]
      await a.call('set', { key: 'k', value: 'old' })
      for (const pod of [b, c]) expect(await pod.call('get', { key: 'k' })).toBe('old')
      await Promise.all(pods.map((pod) => pod.call('startLoad', { workers: 4 })))
      await sleep(300)
      const killed = set.master
      await killed.kill()
      const killedAt = Date.now()
      const landed = b.call<number | undefined>('firstLandedWrite', { key: 'probe', timeoutMs: 30_000 })
      // Invalidated while Redis is away: A repairs L2 and tells the others once it can; they purge L1
      // when their bus is back anyway.
      await a.call('delete', { key: 'k' })
      const { promoted, ms: failoverMs } = await set.waitForFailover(killed)
      const landedAt = await landed
      expect(landedAt).toBeDefined()
      let last: FailoverPodStatus[] = []
      await until(
        async () => {
          last = await Promise.all(pods.map((pod) => pod.call<FailoverPodStatus>('status')))
          return last.every((s) => s.busConnected && s.l2Available && s.repairs.pending === 0)
        },
        15_000,
        'every pod back on the promoted master, nothing left to repair',
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}: ${JSON.stringify(last)}`)
      })
      const followedMs = Date.now() - killedAt
      const figures = await Promise.all(pods.map((pod) => pod.call<LoadFigures>('stopLoad')))
      for (const f of figures) {
        expect(f.errors, f.samples.join('; ')).toBe(0)
        expect(f.ops).toBeGreaterThan(50)
        for (const [kind, ms] of Object.entries(f.slowestMs)) expect(ms, kind).toBeLessThan(CALL_BOUND_MS)
      }
      for (const pod of pods) {
        expect(await pod.call('get', { key: 'k' }), pod.name).toBeUndefined()
        expect((await pod.call<FailoverPodStatus>('status')).busStates).toContain('disconnected')
      }
      expect((await set.currentMaster()).port).toBe(promoted.port)
      // Delivery works again, on the promoted master.
      await b.call('get', { key: 'k2' })
      await a.call('set', { key: 'k2', value: 'after' })
      await until(async () => (await b.call('get', { key: 'k2' })) === 'after', 5000, 'a set reaches b')
      console.log(
        `[tiered] Sentinel failover (down-after-milliseconds ${DOWN_AFTER_MS} ms, 3 sentinels): replica promoted ${failoverMs} ms after the SIGKILL, first write landed after ${landedAt! - killedAt} ms, every pod back on it after ${followedMs} ms; slowest calls (ms) ${JSON.stringify(figures.map((f) => f.slowestMs))}`,
      )
    }, 60_000)
  },
)
