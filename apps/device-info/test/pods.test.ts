import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonBody, type Pod, startPods } from './pods.ts'

// Three pods, one Redis, one database file: the deployment the service is written for.
const TOKEN = 'device-admin-token-0123456789abcdef0123'
const auth = { authorization: `Bearer ${TOKEN}` }
let dir: string
let redis: RedisServer
let pods: [Pod, Pod, Pod]

type Info = {
  device: { id: number; name: string }
  apiKeys: { id: number; prefix: string }[]
  activeKeyCount: number
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'device-pods-'))
  redis = await startRedisServer({ ownServer: true })
  pods = (await startPods(3, {
    REDIS_URL: redis.url,
    DATABASE_PATH: join(dir, 'devices.db'),
    CACHE_ADMIN_TOKEN: TOKEN,
  })) as [Pod, Pod, Pod]
}, 90_000)

afterAll(async () => {
  redis?.resume()
  await Promise.all((pods ?? []).map((pod) => pod.stop()))
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function createDevice(via: Pod, name: string): Promise<number> {
  const created = await via.json<{ id: number; name: string }>('/api/devices', jsonBody('POST', { name }))
  expect(created.status).toBe(201)
  expect(created.body.name).toBe(name)
  return created.body.id
}

describe('device info across three pods', () => {
  it('resolves info through the cache: miss, then hit from L2 on another pod, then L1', async () => {
    const [p1, p2, p3] = pods
    const id = await createDevice(p1, 'sensor-1')
    const first = await p2.json<Info>(`/api/devices/${id}/info`)
    expect(first.status).toBe(200)
    expect(first.headers.get('x-cache')).toBe('miss')
    expect(first.body).toMatchObject({ device: { id, name: 'sensor-1' }, apiKeys: [], activeKeyCount: 0 })
    expect((await p3.get(`/api/devices/${id}/info`)).headers.get('x-cache')).toBe('hit')
    expect((await p2.get(`/api/devices/${id}/info`)).headers.get('x-cache')).toBe('hit')
  })

  it('a key created on pod 1 shows in the info on pods 2 and 3 at once; revoking it on pod 3 too', async () => {
    const [p1, p2, p3] = pods
    const id = await createDevice(p1, 'gateway')
    await p2.get(`/api/devices/${id}/info`)
    await p3.get(`/api/devices/${id}/info`)
    const key = await p1.json<{ id: number; key: string; deviceId: number }>(
      `/api/devices/${id}/api-keys`,
      jsonBody('POST', { name: 'ci' }),
    )
    expect(key.status).toBe(201)
    expect(Object.keys(key.body).sort()).toEqual(['deviceId', 'id', 'key'])
    expect(key.body.deviceId).toBe(id)
    expect(key.body.key).toMatch(/^dk_/)
    for (const pod of [p2, p3]) {
      const info = await pod.json<Info>(`/api/devices/${id}/info`)
      expect(info.body.activeKeyCount).toBe(1)
      expect(info.body.apiKeys[0]!.prefix).toBe(key.body.key.slice(0, 10))
      expect(JSON.stringify(info.body)).not.toContain(key.body.key) // the secret is shown once only
    }
    expect((await p3.get(`/api/api-keys/${key.body.id}`, { method: 'DELETE' })).status).toBe(204)
    for (const pod of [p1, p2]) {
      expect((await pod.json<Info>(`/api/devices/${id}/info`)).body.activeKeyCount).toBe(0)
    }
    expect((await p1.get(`/api/api-keys/${key.body.id}`, { method: 'DELETE' })).status).toBe(404)
  })

  it('creates a key without a body (name is optional)', async () => {
    const id = await createDevice(pods[0], 'no-name')
    const key = await pods[1].json<{ deviceId: number }>(`/api/devices/${id}/api-keys`, { method: 'POST' })
    expect(key.status).toBe(201)
    expect(key.body.deviceId).toBe(id)
  })

  it('refuses bad input with a 400 that says what is wrong, and 404 for an unknown device', async () => {
    const [p1] = pods
    const bad = await p1.json<{ message: string }>('/api/devices', jsonBody('POST', { name: '' }))
    expect(bad.status).toBe(400)
    expect(bad.body.message).toContain('name')
    const badId = await p1.json<{ message: string }>('/api/devices/1.5/info')
    expect(badId.status).toBe(400)
    expect(badId.body.message).toContain('deviceId must be a positive integer')
    const missing = await p1.json<{ message: string }>('/api/devices/999999/info')
    expect(missing.status).toBe(404)
    expect(missing.body.message).toBe('device 999999 does not exist')
    expect((await p1.get('/api/devices/999999/api-keys', jsonBody('POST', {}))).status).toBe(404)
  })
})

describe('cache admin API', () => {
  it('refuses a missing token and a wrong one (401 invalid_token) on every admin endpoint', async () => {
    const p = pods[0]
    for (const [path, method] of [
      ['/cache/stats', 'GET'],
      ['/cache/clear', 'POST'],
      ['/cache/invalidate', 'POST'],
    ] as const) {
      const init = method === 'POST' ? jsonBody('POST', { pattern: 'device:*' }) : {}
      expect((await p.get(path, init)).status).toBe(401)
      const wrong = { ...init, headers: { ...(init.headers as object), authorization: 'Bearer wrong-token' } }
      const refused = await p.get(path, wrong)
      expect(refused.status).toBe(401)
      expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"')
    }
  })

  it('invalidates by pattern on every pod, answering deleted_count; a bad pattern is a 400', async () => {
    const [p1, p2, p3] = pods
    const id = await createDevice(p1, 'admin-target')
    await p1.get(`/api/devices/${id}/info`)
    await p2.get(`/api/devices/${id}/info`)
    const res = await p3.json<{ deleted_count: number }>(
      '/cache/invalidate',
      jsonBody('POST', { pattern: `device:info:${id}:*` }, auth),
    )
    expect(res).toMatchObject({ status: 200, body: { pattern: `device:info:${id}:*`, deleted_count: 1 } })
    expect((await p2.get(`/api/devices/${id}/info`)).headers.get('x-cache')).toBe('miss')

    const bad = await p3.json<{ code: string; message: string }>(
      '/cache/invalidate',
      jsonBody('POST', { pattern: 'device info/*' }, auth),
    )
    expect(bad.status).toBe(400)
    expect(bad.body.code).toBe('E_INVALID_PATTERN')
    expect(bad.body.message).toContain('is not allowed')
    const missing = await p3.json<{ message: string }>('/cache/invalidate', jsonBody('POST', {}, auth))
    expect(missing.status).toBe(400)
    expect(missing.body.message).toContain('pattern')
  })

  it('reports real figures, and clears', async () => {
    const p = pods[1]
    const stats = await p.json<{
      cache: Record<string, number | boolean>
      tiers: { tier: string; role: string }[]
    }>('/cache/stats', {
      headers: auth,
    })
    expect(stats.status).toBe(200)
    expect(stats.body.cache.available).toBe(true)
    expect(stats.body.cache.keyspace_hits).toBeGreaterThan(0)
    expect(stats.body.cache.keyspace_misses).toBeGreaterThan(0)
    expect(stats.body.cache.connected_clients).toBeGreaterThanOrEqual(3)
    expect(stats.body.tiers.map((t) => t.tier)).toEqual(['memory', 'redis', 'bus'])
    expect(stats.body.tiers.map((t) => t.role)).toEqual(['l1', 'l2', 'bus'])
    const cleared = await p.json('/cache/clear', { method: 'POST', headers: auth })
    expect(cleared.status).toBe(200)
    const metrics = await (await p.get('/metrics')).text()
    expect(metrics).toMatch(/cache_hits_total\{[^}]*key_pattern="device:info:\*"/)
  })
})

describe('Redis outage', () => {
  it('keeps answering from L1 and the database while Redis is stopped (SIGSTOP)', async () => {
    const [p1, p2] = pods
    const id = await createDevice(p1, 'during-outage')
    const before = await p2.json<Info>(`/api/devices/${id}/info`)
    redis.pause()
    try {
      const info = await p2.json<Info>(`/api/devices/${id}/info`)
      expect(info.status).toBe(200)
      expect(info.headers.get('x-cache')).toBe('hit')
      expect(info.body).toEqual(before.body)
      expect((await p1.json<{ name: string }>(`/api/devices/${id}`)).body.name).toBe('during-outage')
      // Writes land in the database; info on the writing pod is recomputed from it.
      const key = await p1.json(`/api/devices/${id}/api-keys`, jsonBody('POST', {}))
      expect(key.status).toBe(201)
      expect((await p1.json<Info>(`/api/devices/${id}/info`)).body.activeKeyCount).toBe(1)
    } finally {
      redis.resume()
    }
  })
})
