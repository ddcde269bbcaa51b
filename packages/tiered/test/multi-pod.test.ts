import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Pod, percentiles, startPod } from './helpers/pods.ts'
import { until } from './helpers/wait.ts'

// Three pods, each a separate process with its own Cache (createCache: L1 + L2 + bus) on one real Redis.
let server: RedisServer
let admin: Redis
let pods: Pod[] = []
const prefix = 'mp:'

beforeAll(async () => {
  server = await startRedisServer({ ownServer: true })
  admin = new Redis(server.url)
  pods = await Promise.all(
    ['pod-a', 'pod-b', 'pod-c'].map((name) => startPod(name, { redisUrl: server.url, prefix })),
  )
}, 60_000)

afterAll(async () => {
  await Promise.all(pods.map((pod) => pod.stop()))
  admin?.disconnect()
  await server?.stop()
})

type BusFigures = {
  sent: number
  received: number
  dropped: number
  gaps: number
  reconnects: number
  pending: number
}
type Status = { busConnected: boolean; l2Available: boolean; bus: BusFigures; health: string }

describe('three pods', () => {
  it('a set or delete on one pod is seen by get on the other two (1,000 updates, p50/p99 printed)', async () => {
    const [a, b, c] = pods as [Pod, Pod, Pod]
    const key = 'prop:1'
    await a.call('set', { key, value: 'start' })
    await b.call('waitBusInvalidations', { count: 1 })
    const latencies: number[] = []
    for (let i = 0; i < 1000; i++) {
      const deleting = i % 2 === 1
      const expected = deleting ? undefined : `v${i}`
      await Promise.all([b.call('arm', { key, expected }), c.call('arm', { key, expected })])
      const seen = Promise.all([b.seen(key), c.seen(key)])
      const started = performance.now()
      await (deleting ? a.call('delete', { key }) : a.call('set', { key, value: expected }))
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`round ${i}: not seen within 2 s`)), 2000),
      )
      const [atB, atC] = await Promise.race([seen, timeout])
      latencies.push(atB - started, atC - started)
    }
    const { p50, p99, max } = percentiles(latencies)
    console.log(
      `[tiered] propagation over 1,000 updates (500 set + 500 delete) to 2 pods, from the writer's call to the other pod's get returning the new value (includes 2 IPC hops): p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${max.toFixed(2)} ms`,
    )
    expect(latencies).toHaveLength(2000)
  }, 60_000)

  it('a pod that missed a message while its subscriber was disconnected returns the new value after reconnecting (L1 TTL 1 h)', async () => {
    const [a, b, c] = pods as [Pod, Pod, Pod]
    const key = 'missed:1'
    await a.call('set', { key, value: 'old', ttl: '1h' })
    await until(
      async () => (await b.call('get', { key })) === 'old' && (await c.call('get', { key })) === 'old',
    )
    // Both now hold "old" in L1 for an hour.
    const before = await Promise.all([b.call<Status>('status'), c.call<Status>('status')])
    await admin.client('KILL', 'TYPE', 'pubsub')
    await a.call('set', { key, value: 'new', ttl: '1h' }) // published while B and C are not subscribed
    await until(async () => {
      const now = await Promise.all([b.call<Status>('status'), c.call<Status>('status')])
      return now.every((s, i) => s.busConnected && s.bus.reconnects === before[i]!.bus.reconnects + 1)
    }, 10_000)
    const after = await Promise.all([b.call<Status>('status'), c.call<Status>('status')])
    // The message really was lost for them: they did not receive it...
    expect(after.map((s) => s.bus.received)).toEqual(before.map((s) => s.bus.received))
    // ...and still answer with the new value, because reconnecting dropped their L1.
    expect(await b.call('get', { key })).toBe('new')
    expect(await c.call('get', { key })).toBe('new')
  }, 30_000)

  it('race: 2,000 rounds of a read on B concurrent with an update on A; B then returns the latest every time', async () => {
    const [a, b] = pods as [Pod, Pod]
    const key = 'race:1'
    await b.call('slowL2Reads', { maxDelayMs: 2 })
    await a.call('set', { key, value: 0 })
    let received = await b.call<number>('waitBusInvalidations', {
      count: await b.call<number>('busInvalidations'),
    })
    await until(async () => (await b.call('get', { key })) === 0)
    received = await b.call<number>('busInvalidations')
    const wrong: string[] = []
    let readOld = 0
    for (let i = 1; i <= 2000; i++) {
      // B's read goes to L2, so it is in flight while A writes and its invalidation arrives.
      await b.call('dropL1', { key })
      const [, during] = await Promise.all([a.call('set', { key, value: i }), b.call('get', { key })])
      if (during === i - 1) readOld++
      // Settled: B has applied A's invalidation for this update.
      await b.call('waitBusInvalidations', { count: received + i })
      const value = await b.call('get', { key })
      if (value !== i) wrong.push(`round ${i}: got ${String(value)}`)
    }
    console.log(
      `[tiered] race: B's concurrent read returned the previous value in ${readOld} of 2,000 rounds`,
    )
    expect(wrong).toEqual([])
  }, 90_000)

  it('stampede: 1,000 concurrent getOrSet on a cold key over three pods load at most once per pod, exactly once with lock', async () => {
    const counts = [333, 333, 334]
    const free = await Promise.all(
      pods.map((pod, i) =>
        pod.call<{ loaderRuns: number; values: unknown[]; errors: number }>('stampede', {
          key: 'stampede:free',
          count: counts[i],
          lock: false,
        }),
      ),
    )
    const freeRuns = free.reduce((sum, r) => sum + r.loaderRuns, 0)
    expect(free.every((r) => r.errors === 0)).toBe(true)
    expect(free.every((r) => r.loaderRuns <= 1)).toBe(true)
    expect(freeRuns).toBeGreaterThanOrEqual(1)
    expect(freeRuns).toBeLessThanOrEqual(3)

    const locked = await Promise.all(
      pods.map((pod, i) =>
        pod.call<{ loaderRuns: number; values: unknown[]; errors: number }>('stampede', {
          key: 'stampede:lock',
          count: counts[i],
          lock: true,
        }),
      ),
    )
    expect(locked.every((r) => r.errors === 0)).toBe(true)
    expect(locked.reduce((sum, r) => sum + r.loaderRuns, 0)).toBe(1)
    // Every caller on every pod got the one loaded value.
    const values = new Set(locked.flatMap((r) => r.values))
    expect(values.size).toBe(1)
    console.log(
      `[tiered] stampede of 1,000 over 3 pods: loader ran ${freeRuns} time(s) without lock, 1 with lock`,
    )
  }, 30_000)

  it('garbage published on the bus channel by hand is dropped and counted; the pods keep working', async () => {
    const [a, b, c] = pods as [Pod, Pod, Pod]
    const before = await Promise.all(pods.map((pod) => pod.call<Status>('status')))
    const garbage = [
      '',
      'hello',
      '9|x|1|k|a',
      '1|x|1|k|a b',
      '1|x|notanumber|k|a',
      '1|x|1|c|payload',
      '{"json":true}',
      '1|x|1|k',
    ]
    for (const message of garbage) await admin.publish(`${prefix}bus`, message)
    await until(async () => {
      const now = await Promise.all(pods.map((pod) => pod.call<Status>('status')))
      return now.every((s, i) => s.bus.dropped === before[i]!.bus.dropped + garbage.length)
    })
    const now = await Promise.all(pods.map((pod) => pod.call<Status>('status')))
    expect(now.every((s) => s.busConnected && s.health === 'up')).toBe(true)
    await a.call('set', { key: 'after-garbage', value: 1 })
    expect(await b.call('get', { key: 'after-garbage' })).toBe(1)
    await a.call('set', { key: 'after-garbage', value: 2 })
    await until(async () => (await c.call('get', { key: 'after-garbage' })) === 2)
  })
})
