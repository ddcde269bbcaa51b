import { fileURLToPath } from 'node:url'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { type ChildPod, startChildPod } from '@strata-cache/test-suite/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Two processes of one service on one Redis, each with cache-manager 7 in front. With KeyvStrata, a
// write on one reaches the other's in-process tier through Strata's invalidation bus; with
// cache-manager's own memory + Redis tiers, the other keeps serving its in-memory copy.
const POD = fileURLToPath(new URL('./fixtures/cache-manager-pod.ts', import.meta.url))
/** The longest a reader waits for the bus notice (a loaded machine); it usually comes within milliseconds. */
const NOTICE_MS = 3000

let server: RedisServer
const pods: ChildPod[] = []

beforeAll(async () => {
  server = await startRedisServer()
})
afterAll(async () => {
  await Promise.all(pods.map((pod) => pod.stop({ ask: () => pod.call('close'), killAfterMs: 3000 })))
  await server?.stop()
})

async function startPods(mode: 'strata' | 'cache-manager'): Promise<[ChildPod, ChildPod]> {
  const prefix = `keyv-2p-${mode}-${process.pid}:`
  const started = ['a', 'b'].map(async (name) => {
    const pod = startChildPod({ name: `${mode}-${name}`, script: POD, replyTimeoutMs: 20_000 })
    pods.push(pod)
    await new Promise<void>((resolve, reject) => {
      pod.onEvent((message) => message.event === 'started' && resolve())
      pod.exited.then((code) => reject(new Error(`${pod.name} exited with ${code}: ${pod.output()}`)))
    })
    await pod.call('init', { mode, redisUrl: server.url, prefix, name: pod.name })
    return pod
  })
  return (await Promise.all(started)) as [ChildPod, ChildPod]
}

describe('two processes, cache-manager 7 in each', () => {
  it('KeyvStrata: a set, del or clear on one is seen by the other’s next read', async () => {
    const [a, b] = await startPods('strata')
    await a.call('set', { key: 'price', value: 100 })
    expect(await b.call('read', { key: 'price' })).toBe(100) // now in b's in-process tier
    expect(await b.call('read', { key: 'price' })).toBe(100)

    await b.call('arm', { key: 'price' })
    await a.call('set', { key: 'price', value: 90 })
    expect(await b.call('waitNotice', { key: 'price', ms: NOTICE_MS })).toBe(true)
    expect(await b.call('read', { key: 'price' })).toBe(90)
    expect(await b.call('get', { key: 'price' })).toBe(90)

    await b.call('arm', { key: 'price' })
    await a.call('del', { key: 'price' })
    expect(await b.call('waitNotice', { key: 'price', ms: NOTICE_MS })).toBe(true)
    expect(await b.call('get', { key: 'price' })).toBeUndefined()

    await a.call('set', { key: 'stock', value: 7 })
    expect(await b.call('read', { key: 'stock' })).toBe(7)
    await b.call('arm', { key: 'stock' })
    await a.call('clear')
    expect(await b.call('waitNotice', { key: 'stock', ms: NOTICE_MS })).toBe(true)
    expect(await b.call('get', { key: 'stock' })).toBeUndefined()
  })

  it('cache-manager alone (memory + @keyv/redis): the other process keeps its old copy', async () => {
    const [a, b] = await startPods('cache-manager')
    await a.call('set', { key: 'price', value: 100 })
    expect(await b.call('read', { key: 'price' })).toBe(100) // from Redis, copied into b's memory tier
    await b.call('arm', { key: 'price' })
    await a.call('set', { key: 'price', value: 90 })
    expect(await b.call('waitNotice', { key: 'price', ms: 1000 })).toBe(false)
    expect(await b.call('read', { key: 'price' })).toBe(100) // stale: nothing told b
    expect(await b.call('get', { key: 'price' })).toBe(100)
  })
})
