import type { Cache } from '@strata-cache/core'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../src/create-cache.ts'
import { sleep, until } from './helpers/wait.ts'

let server: RedisServer
let admin: Redis
let counter = 0
const caches: Cache[] = []

beforeAll(async () => {
  server = await startRedisServer({ ownServer: true })
  admin = new Redis(server.url)
})
afterAll(async () => {
  admin?.disconnect()
  await server?.stop()
})
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})

/** Two pods (L1 + L2 + bus each) sharing one prefix on one Redis. */
async function pods() {
  const prefix = `batch${++counter}:`
  const make = (instanceId: string) => {
    const cache = createCache({ redisUrl: server.url, prefix, bus: { instanceId } })
    caches.push(cache)
    return cache
  }
  const a = make('a')
  const b = make('b')
  await until(async () => (await a.health()).status === 'up' && (await b.health()).status === 'up')
  return { a, b }
}

/** Calls per Redis command since the last reset (INFO commandstats). */
async function commandCalls(): Promise<Record<string, number>> {
  const info = await admin.info('commandstats')
  const out: Record<string, number> = {}
  for (const match of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) out[match[1]!] = Number(match[2])
  return out
}

async function busSent(cache: Cache): Promise<number> {
  const row = (await cache.stats()).tiers.find((t) => t.tier === 'bus')
  return Number((row?.details as { sent?: number } | undefined)?.sent ?? 0)
}

describe('batches through the tiered store', () => {
  it('getOrSetMany: one MGET, the loader once, one bus message; the other pod drops its copies', async () => {
    const { a, b } = await pods()
    await b.setMany([
      { key: 'k:1', value: 'old-1' },
      { key: 'k:2', value: 'old-2' },
    ])
    await a.deleteMany(['k:1', 'k:2'])
    // b's L1 copies went with the delete notice.
    await until(async () => (await b.getMany(['k:1', 'k:2'])).every((v) => v === undefined))
    // A fill that begins within the Redis clock estimate's error of the delete's fence is dropped (on
    // purpose; unsampled, the error is 1 s): a write samples a's clock first.
    await a.set('warm', 1)
    await sleep(50)
    const sentBefore = await busSent(a)
    await admin.config('RESETSTAT')
    const calls: string[][] = []
    const keys = Array.from({ length: 20 }, (_, i) => `k:${i}`)
    const values = await a.getOrSetMany(keys, async (missing) => {
      calls.push(missing)
      return new Map(missing.filter((k) => k !== 'k:19').map((k) => [k, `v-${k}`]))
    })
    expect(values).toEqual(keys.map((k) => (k === 'k:19' ? undefined : `v-${k}`)))
    expect(calls).toEqual([keys])
    const stats = await commandCalls()
    // One MGET for the batch; commandstats also counts the one each of the 19 fill scripts makes inside.
    expect(stats.mget).toBe(1 + 19)
    expect(stats.evalsha).toBe(19) // one fenced write per loaded key, pipelined
    expect((await busSent(a)) - sentBefore).toBe(1)
    // The other pod reads them from L2 (no loader), and a second batch on a is all L1 hits.
    expect(await b.getMany(keys.slice(0, 3))).toEqual(['v-k:0', 'v-k:1', 'v-k:2'])
    await admin.config('RESETSTAT')
    expect(await a.getOrSetMany(keys.slice(0, 19), async () => ({}))).toEqual(values.slice(0, 19))
    expect((await commandCalls()).mget ?? 0).toBe(0)
  })

  it('setMany and deleteMany: one bus message per batch, applied by the other pod', async () => {
    const { a, b } = await pods()
    const keys = ['s:1', 's:2', 's:3']
    await b.setMany(keys.map((key) => ({ key, value: `b-${key}` })))
    expect(await b.getMany(keys)).toEqual(['b-s:1', 'b-s:2', 'b-s:3'])
    const sent = await busSent(a)
    await a.setMany(keys.map((key) => ({ key, value: `a-${key}` })))
    expect((await busSent(a)) - sent).toBe(1)
    await until(async () => (await b.get('s:3')) === 'a-s:3')
    expect(await b.getMany(keys)).toEqual(['a-s:1', 'a-s:2', 'a-s:3'])
    await admin.config('RESETSTAT')
    expect(await a.deleteMany(keys)).toBe(3)
    expect((await commandCalls()).evalsha).toBe(1) // one script removes (and fences) the batch
    expect((await busSent(a)) - sent).toBe(2)
    await until(async () => (await b.getMany(keys)).every((v) => v === undefined))
  })

  it("a getOrSetMany result older than another pod's delete is not written", async () => {
    const { a, b } = await pods()
    const values = await a.getOrSetMany(['f:1', 'f:2'], async (missing) => {
      await b.deleteMany(['f:1']) // another pod changes the data while a loads
      return Object.fromEntries(missing.map((k) => [k, `v-${k}`]))
    })
    expect(values).toEqual(['v-f:1', 'v-f:2'])
    expect(await b.get('f:1')).toBeUndefined()
    expect(await b.get('f:2')).toBe('v-f:2')
    expect(await a.get('f:1')).toBeUndefined()
  })
})
