import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonBody, type Pod, startPod } from './pods.ts'

// The embedded default: no REDIS_URL, so the cache is memory only. One pod, one database file.
const TOKEN = 'test-admin-token-0123456789abcdef0123'
let dir: string
let pod: Pod

type Rack = { id: number; name: string; heightU: number; positions: { id: number }[] }
type Analysis = {
  rackId: number
  maxInletC: number
  totalHeatLoadW: number
  hotspots: unknown[]
  units: unknown[]
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'thermal-single-'))
  pod = await startPod('single', {
    DATABASE_PATH: join(dir, 'thermal.db'),
    CACHE_ADMIN_TOKEN: TOKEN,
    OPTIMIZATION_EVALUATIONS: '20',
  })
})

afterAll(async () => {
  await pod?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function createRack(name = 'r1', heightU = 42): Promise<Rack> {
  const { status, body } = await pod.json<Rack>('/api/racks', jsonBody('POST', { name, heightU }))
  expect(status).toBe(201)
  return body
}

async function addPosition(rackId: number, position: object) {
  return pod.json<{ id: number; rackId: number }>(
    `/api/racks/${rackId}/positions`,
    jsonBody('POST', position),
  )
}

describe('racks and positions', () => {
  it('creates, reads, updates and deletes a rack', async () => {
    const rack = await createRack('row-a', 42)
    expect(rack).toMatchObject({ name: 'row-a', heightU: 42, positions: [] })
    expect(rack.id).toBeGreaterThan(0)
    const read = await pod.json<Rack>(`/api/racks/${rack.id}`)
    expect(read.body).toMatchObject({ id: rack.id, name: 'row-a' })
    const updated = await pod.json<Rack>(
      `/api/racks/${rack.id}`,
      jsonBody('PUT', { name: 'row-b', heightU: 48 }),
    )
    expect(updated.body).toMatchObject({ id: rack.id, name: 'row-b', heightU: 48 })
    expect((await pod.get(`/api/racks/${rack.id}`, { method: 'DELETE' })).status).toBe(204)
    const gone = await pod.json<{ message: string }>(`/api/racks/${rack.id}`)
    expect(gone.status).toBe(404)
    expect(gone.body.message).toContain(`rack ${rack.id}`)
  })

  it('answers 201 with the created position, and 409 for one that overlaps or does not fit', async () => {
    const rack = await createRack()
    const created = await addPosition(rack.id, { name: 'srv', startU: 10, heightU: 2, powerWatts: 500 })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      rackId: rack.id,
      name: 'srv',
      startU: 10,
      heightU: 2,
      powerWatts: 500,
    })
    const overlap = await addPosition(rack.id, { name: 'other', startU: 11, heightU: 1, powerWatts: 100 })
    expect(overlap.status).toBe(409)
    expect((overlap.body as unknown as { message: string }).message).toContain('overlaps "srv" at U11')
    const tooHigh = await addPosition(rack.id, { name: 'top', startU: 42, heightU: 2, powerWatts: 100 })
    expect(tooHigh.status).toBe(409)
    // Nothing was written by the refused requests.
    expect((await pod.json<Rack>(`/api/racks/${rack.id}`)).body.positions).toHaveLength(1)
  })

  it('refuses bad bodies and ids with a 400 that says what is wrong', async () => {
    const noName = await pod.json<{ message: string }>('/api/racks', jsonBody('POST', { heightU: 42 }))
    expect(noName.status).toBe(400)
    expect(noName.body.message).toContain('name')
    const stringHeight = await pod.json<{ message: string }>(
      '/api/racks',
      jsonBody('POST', { name: 'x', heightU: '42' }),
    )
    expect(stringHeight.status).toBe(400)
    expect(stringHeight.body.message).toContain('heightU')
    const badId = await pod.json<{ message: string; code: string }>('/api/racks/abc')
    expect(badId.status).toBe(400)
    expect(badId.body).toMatchObject({ code: 'E_INVALID_ID' })
    expect(badId.body.message).toContain('rack id must be a positive integer')
    const badJson = await pod.get('/api/racks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    })
    expect(badJson.status).toBe(400)
    const badParam = await pod.json<{ message: string }>('/api/racks/1/thermal-analysis?supplyC=hot')
    expect(badParam.status).toBe(400)
    expect(badParam.body.message).toContain('supplyC')
  })
})

describe('cached thermal analysis', () => {
  it('computes cold (miss), then answers from the cache (hit), and recomputes after a write to the rack', async () => {
    const rack = await createRack('gpu', 42)
    await addPosition(rack.id, { name: 'gpu-1', startU: 30, heightU: 4, powerWatts: 3200 })
    await addPosition(rack.id, { name: 'gpu-2', startU: 20, heightU: 4, powerWatts: 3200 })

    const cold = await pod.json<Analysis>(`/api/racks/${rack.id}/thermal-analysis`)
    expect(cold.status).toBe(200)
    expect(cold.headers.get('x-cache')).toBe('miss')
    expect(cold.body.totalHeatLoadW).toBe(6400)
    expect(cold.body.units).toHaveLength(42)

    const warm = await pod.json<Analysis>(`/api/racks/${rack.id}/thermal-analysis`)
    expect(warm.headers.get('x-cache')).toBe('hit')
    expect(warm.body).toEqual(cold.body)

    // Other parameters are another entry.
    const other = await pod.json<Analysis>(`/api/racks/${rack.id}/thermal-analysis?supplyC=22`)
    expect(other.headers.get('x-cache')).toBe('miss')
    expect(other.body.maxInletC).toBeGreaterThan(cold.body.maxInletC)

    await addPosition(rack.id, { name: 'switch', startU: 42, heightU: 1, powerWatts: 400 })
    const after = await pod.json<Analysis>(`/api/racks/${rack.id}/thermal-analysis`)
    expect(after.headers.get('x-cache')).toBe('miss')
    expect(after.body.totalHeatLoadW).toBe(6800)
  })

  it('caches the optimization and drops it when a position is deleted', async () => {
    const rack = await createRack('opt', 24)
    const a = await addPosition(rack.id, { name: 'a', startU: 2, heightU: 2, powerWatts: 1500 })
    await addPosition(rack.id, { name: 'b', startU: 12, heightU: 2, powerWatts: 1500 })
    const first = await pod.json<{
      evaluations: number
      current: { maxInletC: number }
      proposed: { maxInletC: number }
    }>(`/api/racks/${rack.id}/optimization`)
    expect(first.status).toBe(200)
    expect(first.headers.get('x-cache')).toBe('miss')
    expect(first.body.proposed.maxInletC).toBeLessThanOrEqual(first.body.current.maxInletC)
    expect((await pod.get(`/api/racks/${rack.id}/optimization`)).headers.get('x-cache')).toBe('hit')
    expect((await pod.get(`/api/racks/${rack.id}/positions/${a.body.id}`, { method: 'DELETE' })).status).toBe(
      204,
    )
    expect((await pod.get(`/api/racks/${rack.id}/optimization`)).headers.get('x-cache')).toBe('miss')
  })

  it('answers 404 for the analysis of a rack that does not exist, and caches nothing for it', async () => {
    expect((await pod.get('/api/racks/999999/thermal-analysis')).status).toBe(404)
    expect((await pod.get('/api/racks/999999/thermal-analysis')).status).toBe(404)
  })

  it('searches device specs through the cache', async () => {
    const first = await pod.json<{ results: { vendor: string; heightU: number }[] }>(
      '/api/specs/search?q=dell%20poweredge',
    )
    expect(first.status).toBe(200)
    expect(first.body.results.length).toBeGreaterThan(0)
    expect(first.body.results.every((r) => r.vendor === 'Dell')).toBe(true)
    expect(first.headers.get('x-cache')).toBe('miss')
    expect((await pod.get('/api/specs/search?q=dell%20poweredge')).headers.get('x-cache')).toBe('hit')
    expect((await pod.get('/api/specs/search?q=')).status).toBe(400)
  })
})

describe('cache stats, admin and metrics', () => {
  it('reports real figures in the DESIGN.md shape', async () => {
    const before = await pod.json<{ cache: Record<string, number> }>('/health/cache/stats')
    const rack = await createRack('stats', 42)
    await addPosition(rack.id, { name: 's', startU: 1, heightU: 1, powerWatts: 200 })
    await pod.get(`/api/racks/${rack.id}/thermal-analysis`) // miss
    await pod.get(`/api/racks/${rack.id}/thermal-analysis`) // hit
    await pod.get(`/api/racks/${rack.id}/thermal-analysis`) // hit
    const { status, body } = await pod.json<{ timestamp: string; cache: Record<string, unknown> }>(
      '/health/cache/stats',
    )
    expect(status).toBe(200)
    expect(Object.keys(body.cache).sort()).toEqual(
      [
        'available',
        'connected_clients',
        'enabled',
        'failure_count',
        'hit_rate',
        'keyspace_hits',
        'keyspace_misses',
        'used_memory',
        'used_memory_bytes',
      ].sort(),
    )
    expect(Date.parse(body.timestamp)).not.toBeNaN()
    expect(body.cache).toMatchObject({ enabled: true, available: true, connected_clients: 0 })
    expect(body.cache.keyspace_hits).toBe(before.body.cache.keyspace_hits! + 2)
    expect(body.cache.keyspace_misses).toBe(before.body.cache.keyspace_misses! + 1)
    const hits = body.cache.keyspace_hits as number
    const misses = body.cache.keyspace_misses as number
    expect(body.cache.hit_rate).toBeCloseTo((100 * hits) / (hits + misses), 1)
    expect(body.cache.used_memory_bytes).toBeGreaterThan(0)
  })

  it('refuses the admin endpoints without a token and with a wrong one (401 both)', async () => {
    expect((await pod.get('/health/cache/clear', { method: 'POST' })).status).toBe(401)
    const wrong = await pod.get('/health/cache/clear', {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="cache-admin", error="invalid_token"')
    const wrongInvalidate = await pod.get('/health/cache/invalidate/thermal:*', {
      method: 'DELETE',
      headers: { authorization: `Bearer ${TOKEN}x` },
    })
    expect(wrongInvalidate.status).toBe(401)
    const basic = await pod.get('/health/cache/clear', {
      method: 'POST',
      headers: { authorization: `Basic ${TOKEN}` },
    })
    expect(basic.status).toBe(401)
  })

  it('invalidates by pattern with the token, answering deleted_count, and refuses a bad pattern with 400', async () => {
    const rack = await createRack('admin', 42)
    await addPosition(rack.id, { name: 's', startU: 1, heightU: 1, powerWatts: 200 })
    await pod.get(`/api/racks/${rack.id}/thermal-analysis`)
    await pod.get(`/api/racks/${rack.id}/thermal-analysis?supplyC=20`)
    const auth = { authorization: `Bearer ${TOKEN}` }
    const res = await pod.json<{ pattern: string; deleted_count: number }>(
      `/health/cache/invalidate/thermal:rack:${rack.id}:*`,
      { method: 'DELETE', headers: auth },
    )
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ pattern: `thermal:rack:${rack.id}:*`, deleted_count: 2 })
    expect((await pod.get(`/api/racks/${rack.id}/thermal-analysis`)).headers.get('x-cache')).toBe('miss')

    const bad = await pod.json<{ message: string; code: string }>(
      `/health/cache/invalidate/${encodeURIComponent('a b*')}`,
      {
        method: 'DELETE',
        headers: auth,
      },
    )
    expect(bad.status).toBe(400)
    expect(bad.body.code).toBe('E_INVALID_PATTERN')
    expect(bad.body.message).toContain('character " " at 1 is not allowed')

    const cleared = await pod.json<{ cleared: boolean }>('/health/cache/clear', {
      method: 'POST',
      headers: auth,
    })
    expect(cleared).toMatchObject({ status: 200, body: { cleared: true } })
    expect((await pod.get(`/api/racks/${rack.id}/thermal-analysis`)).headers.get('x-cache')).toBe('miss')
  })

  it('serves Prometheus text with the cache metrics', async () => {
    const response = await pod.get('/metrics')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toContain('text/plain')
    const text = await response.text()
    expect(text).toMatch(/cache_hits_total\{[^}]*key_pattern="thermal:rack:\*"[^}]*\} [1-9]/)
    expect(text).toContain('cache_misses_total')
    expect(text).not.toMatch(/thermal:rack:\d/) // never a raw key in a label
  })

  it('answers /health and /health/detailed', async () => {
    expect((await pod.json('/health')).body).toEqual({ status: 'ok' })
    const detailed = await pod.json<{ status: string; database: { status: string } }>('/health/detailed')
    expect(detailed.status).toBe(200)
    expect(detailed.body).toMatchObject({ status: 'up', database: { status: 'up' } })
  })
})
