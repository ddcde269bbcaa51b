import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonBody, type Pod, startPods } from './pods.ts'

// Three pods, one Redis (with a password, as in compose), one database file: L1 + L2 + bus.
const TOKEN = 'pods-admin-token-0123456789abcdef0123'
let dir: string
let redis: RedisServer
let pods: Pod[]

type Analysis = { totalHeatLoadW: number; computedAt: string }
type Stats = { cache: Record<string, number | string | boolean> }

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'thermal-pods-'))
  redis = await startRedisServer({ password: 'pods-secret', ownServer: true })
  pods = await startPods(3, {
    REDIS_URL: redis.url,
    DATABASE_PATH: join(dir, 'thermal.db'),
    CACHE_ADMIN_TOKEN: TOKEN,
    OPTIMIZATION_EVALUATIONS: '10',
  })
}, 90_000)

afterAll(async () => {
  redis?.resume()
  await Promise.all((pods ?? []).map((pod) => pod.stop()))
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function rackWithDevice(via: Pod, name: string): Promise<number> {
  const rack = await via.json<{ id: number }>('/api/racks', jsonBody('POST', { name, heightU: 42 }))
  expect(rack.status).toBe(201)
  const position = await via.json(
    `/api/racks/${rack.body.id}/positions`,
    jsonBody('POST', { name: 'gpu', startU: 20, heightU: 4, powerWatts: 3000 }),
  )
  expect(position.status).toBe(201)
  return rack.body.id
}

describe('three pods on one Redis and one database', () => {
  it('sees a rack created through pod 1 on pods 2 and 3 at once', async () => {
    const [p1, p2, p3] = pods as [Pod, Pod, Pod]
    const id = await rackWithDevice(p1, 'shared')
    for (const pod of [p2, p3]) {
      const read = await pod.json<{ name: string; positions: unknown[] }>(`/api/racks/${id}`)
      expect(read.status).toBe(200)
      expect(read.body).toMatchObject({ name: 'shared' })
      expect(read.body.positions).toHaveLength(1)
    }
  })

  it('shares one computation through L2, and a write on pod 1 invalidates every pod', async () => {
    const [p1, p2, p3] = pods as [Pod, Pod, Pod]
    const id = await rackWithDevice(p1, 'invalidate')
    const cold = await p1.json<Analysis>(`/api/racks/${id}/thermal-analysis`)
    expect(cold.headers.get('x-cache')).toBe('miss')
    // Pods 2 and 3 find it in Redis (L2), then in their own L1.
    for (const pod of [p2, p3]) {
      const warm = await pod.json<Analysis>(`/api/racks/${id}/thermal-analysis`)
      expect(warm.headers.get('x-cache')).toBe('hit')
      expect(warm.body.computedAt).toBe(cold.body.computedAt)
      expect((await pod.get(`/api/racks/${id}/thermal-analysis`)).headers.get('x-cache')).toBe('hit')
    }

    const added = await p1.json(
      `/api/racks/${id}/positions`,
      jsonBody('POST', { name: 'switch', startU: 42, heightU: 1, powerWatts: 400 }),
    )
    expect(added.status).toBe(201)
    // No pod serves the old figure from its L1: the first to ask recomputes, the others share it.
    const after2 = await p2.json<Analysis>(`/api/racks/${id}/thermal-analysis`)
    expect(after2.headers.get('x-cache')).toBe('miss')
    expect(after2.body.totalHeatLoadW).toBe(3400)
    const after3 = await p3.json<Analysis>(`/api/racks/${id}/thermal-analysis`)
    expect(after3.body.totalHeatLoadW).toBe(3400)
    const after1 = await p1.json<Analysis>(`/api/racks/${id}/thermal-analysis`)
    expect(after1.body.totalHeatLoadW).toBe(3400)
  })

  it('an admin invalidation on pod 3 reaches the L1 of pods 1 and 2', async () => {
    const [p1, p2, p3] = pods as [Pod, Pod, Pod]
    const id = await rackWithDevice(p1, 'admin')
    await p1.get(`/api/racks/${id}/thermal-analysis`)
    await p2.get(`/api/racks/${id}/thermal-analysis`)
    const res = await p3.json<{ deleted_count: number }>(`/health/cache/invalidate/thermal:rack:${id}:*`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    expect(res.status).toBe(200)
    expect(res.body.deleted_count).toBe(1)
    expect((await p2.get(`/api/racks/${id}/thermal-analysis`)).headers.get('x-cache')).toBe('miss')
    expect((await p1.get(`/api/racks/${id}/thermal-analysis`)).headers.get('x-cache')).toBe('hit')
  })

  it('computes a cold optimization once for three pods asking at the same time (distributed lock)', async () => {
    const [p1] = pods as [Pod, Pod, Pod]
    const id = await rackWithDevice(p1, 'locked')
    await p1.json(
      `/api/racks/${id}/positions`,
      jsonBody('POST', { name: 'b', startU: 2, heightU: 2, powerWatts: 900 }),
    )
    type Optimization = { computedAt: string }
    const answers = await Promise.all(
      pods.map((pod) => pod.json<Optimization>(`/api/racks/${id}/optimization`)),
    )
    for (const answer of answers) expect(answer.status).toBe(200)
    expect(new Set(answers.map((a) => a.body.computedAt)).size).toBe(1)
    expect(answers.filter((a) => a.headers.get('x-cache') === 'miss')).toHaveLength(1)
  })

  it('reports Redis figures in /health/cache/stats', async () => {
    const { status, body } = await pods[0]!.json<Stats>('/health/cache/stats')
    expect(status).toBe(200)
    expect(body.cache.enabled).toBe(true)
    expect(body.cache.available).toBe(true)
    // Three pods, each with a command pool and a bus subscriber.
    expect(body.cache.connected_clients).toBeGreaterThanOrEqual(3)
    expect(body.cache.used_memory_bytes).toBeGreaterThan(100_000)
    expect(body.cache.used_memory).toMatch(/^\d+(\.\d+)?[BKMG]$/)
    expect(body.cache.keyspace_hits).toBeGreaterThan(0)
    expect(body.cache.keyspace_misses).toBeGreaterThan(0)
  })

  it('keeps answering from L1 and the database while Redis is stopped (SIGSTOP)', async () => {
    const [p1, p2] = pods as [Pod, Pod, Pod]
    const id = await rackWithDevice(p1, 'outage')
    const cold = await p1.json<Analysis>(`/api/racks/${id}/thermal-analysis`)
    // Read twice: a key enters pod 2's L1 the second time Redis returns it (l1.admission 'seen-twice').
    await p2.get(`/api/racks/${id}/thermal-analysis`)
    await p2.get(`/api/racks/${id}/thermal-analysis`) // now in pod 2's L1 too
    redis.pause()
    try {
      const fromL1 = await p2.json<Analysis>(`/api/racks/${id}/thermal-analysis`)
      expect(fromL1.status).toBe(200)
      expect(fromL1.headers.get('x-cache')).toBe('hit')
      expect(fromL1.body.computedAt).toBe(cold.body.computedAt)
      const fromDb = await p2.json<{ name: string }>(`/api/racks/${id}`)
      expect(fromDb).toMatchObject({ status: 200, body: { name: 'outage' } })
      // A write still succeeds (the database is the truth); the cache error is absorbed.
      const created = await p1.json<{ id: number }>(
        '/api/racks',
        jsonBody('POST', { name: 'during', heightU: 10 }),
      )
      expect(created.status).toBe(201)
      // A cold computation still answers: the L2 write fails and is absorbed.
      const other = await p2.json<Analysis>(`/api/racks/${created.body.id}/thermal-analysis`)
      expect(other.status).toBe(200)
      const stats = await p2.json<Stats>('/health/cache/stats')
      expect(stats.body.cache.available).toBe(false)
      expect(stats.body.cache.failure_count).toBeGreaterThan(0)
      expect((await p2.json('/health')).status).toBe(200)
    } finally {
      redis.resume()
    }
  })
})
