import { RedisStore } from '@strata-cache/redis'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Pod, startPod } from './helpers/pods.ts'
import { sleep, until } from './helpers/wait.ts'

// Outages on a Redis of our own (SIGSTOP, then SIGKILL and restart) under a mixed load on three pods.
let server: RedisServer
let pods: Pod[] = []
const prefix = 'outage:'
const KEYS = 30

beforeAll(async () => {
  server = await startRedisServer({ ownServer: true })
  pods = await Promise.all(
    ['out-a', 'out-b', 'out-c'].map((name) =>
      startPod(name, {
        redisUrl: server.url,
        prefix,
        degradedL1Ttl: '1s',
        heartbeat: '250ms',
        lockWait: '1s',
      }),
    ),
  )
}, 60_000)

afterAll(async () => {
  server?.resume()
  await Promise.all(pods.map((pod) => pod.stop()))
  await server?.stop()
})

interface LoadResult {
  ops: number
  errors: number
  samples: string[]
  l1Hits: number
  l1HitP50Ms: number
  l1HitP99Ms: number
}

describe('Redis outage under a mixed load', () => {
  it('SIGSTOP then SIGKILL: no caller errors, and every pod converges to L2 after recovery', async () => {
    const loads = pods.map((pod) =>
      pod.call<LoadResult>('load', { durationMs: 6500, keys: KEYS, workers: 4 }),
    )
    await sleep(1000)
    server.pause() // hung: commands time out, the breaker opens, the bus heartbeat notices
    await sleep(1500)
    server.resume()
    await sleep(1000)
    await server.kill() // gone: connections drop, data is lost
    await sleep(1000)
    await server.restart()
    const results = await Promise.all(loads)
    for (const [i, result] of results.entries()) {
      console.log(
        `[tiered] ${pods[i]!.name}: ${result.ops} ops, ${result.errors} caller errors, L1 hits p50 ${result.l1HitP50Ms.toFixed(3)} ms p99 ${result.l1HitP99Ms.toFixed(3)} ms over ${result.l1Hits} hits`,
      )
    }
    expect(results.map((r) => r.samples)).toEqual([[], [], []])
    expect(results.map((r) => r.errors)).toEqual([0, 0, 0])
    expect(results.every((r) => r.ops > 100)).toBe(true)

    // Recovery: every pod's bus is connected again and its L2 breaker closed.
    await until(
      async () => {
        const statuses = await Promise.all(
          pods.map((pod) =>
            pod.call<{ busConnected: boolean; l2Available: boolean; health: string }>('status'),
          ),
        )
        return statuses.every((s) => s.busConnected && s.l2Available && s.health === 'up')
      },
      15_000,
      'recovery',
    )
    // L1 copies written while L2 was unavailable live for degradedL1Ttl (1 s) at most.
    await sleep(1200)
    const reader = new RedisStore({ url: server.url, prefix })
    try {
      const keys = Array.from({ length: KEYS }, (_, i) => `load:${i}`)
      const inL2 = await Promise.all(keys.map(async (key) => (await reader.get(key))?.value))
      for (const pod of pods) {
        const values = await pod.call<unknown[]>('getMany', { keys })
        expect(values, pod.name).toEqual(inL2)
      }
    } finally {
      await reader.close()
    }
  }, 60_000)
})
