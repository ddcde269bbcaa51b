import { Cache } from '@strata-cache/core'
import { type RedisCluster, startRedisCluster } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { uniquePrefix } from './helpers.ts'

// Signals a cluster node we started; with REDIS_CLUSTER_NODES pointing at an existing cluster we
// must not (and cannot) do that, so this is skipped.
const external = Boolean(process.env.REDIS_CLUSTER_NODES)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe.skipIf(external)(
  'RedisStore on a cluster with one master hung (SIGSTOP; skipped when REDIS_CLUSTER_NODES names a cluster we must not signal)',
  () => {
    let cluster: RedisCluster

    beforeAll(async () => {
      cluster = await startRedisCluster()
    })

    afterAll(async () => {
      await cluster?.stop()
    })

    it('never rejects, opens the breaker, and closes it once every master answers again', async () => {
      const store = new RedisStore({ cluster: { nodes: cluster.nodes }, prefix: uniquePrefix('cstop') })
      const states: string[] = []
      store.subscribe((e) => e.type === 'breaker' && states.push(e.state))
      const cache = new Cache({ store, defaultTtl: '1m' })
      const keys = Array.from({ length: 60 }, (_, i) => `device:${i}`)
      try {
        for (const key of keys) await cache.set(key, `v:${key}`)
        const hung = cluster.servers[0]!
        // Shorter than the cluster's node timeout (2 s): the node is hung, not failed over or failed.
        hung.pause()
        const rejections: unknown[] = []
        try {
          const until = Date.now() + 1500
          await Promise.all(
            Array.from({ length: 10 }, async (_, w) => {
              for (let i = 0; Date.now() < until; i++) {
                const key = keys[(w * 7 + i) % keys.length]!
                try {
                  const value = await cache.getOrSet(key, () => `v:${key}`)
                  if (value !== `v:${key}`) rejections.push(new Error(`wrong value ${String(value)}`))
                } catch (error) {
                  rejections.push(error)
                }
                await sleep(5)
              }
            }),
          )
          expect(store.isAvailable()).toBe(false)
        } finally {
          hung.resume()
        }
        expect(rejections).toEqual([])
        expect(states).toContain('open')
        await vi.waitFor(() => expect(store.isAvailable()).toBe(true), { timeout: 10_000, interval: 50 })
        expect(states.at(-1)).toBe('closed')
        const got = await cache.getMany<string>(keys)
        expect(got).toEqual(keys.map((k) => `v:${k}`))
      } finally {
        await cache.close()
        await store.close()
      }
    })
  },
)
