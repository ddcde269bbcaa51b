import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hashParams } from '@strata-cache/core'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonBody, type Pod, startPods } from './pods.ts'

// Three pods, one Redis, one database file.
const TOKEN = 'analytics-admin-token-0123456789abcdef0123'
const auth = { authorization: `Bearer ${TOKEN}` }
let dir: string
let redis: RedisServer
let client: Redis
let pods: [Pod, Pod, Pod]

type Aggregate = { count: number; sum: number; timeframe: string; series: { count: number }[] }

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'analytics-pods-'))
  redis = await startRedisServer({ ownServer: true })
  client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  pods = (await startPods(3, {
    REDIS_URL: redis.url,
    DATABASE_PATH: join(dir, 'analytics.db'),
    CACHE_ADMIN_TOKEN: TOKEN,
    CACHE_GRACE: '0',
  })) as [Pod, Pod, Pod]
}, 90_000)

afterAll(async () => {
  redis?.resume()
  client?.disconnect()
  await Promise.all((pods ?? []).map((pod) => pod.stop()))
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

function event(metric: string, overrides: object = {}) {
  return {
    workspace: 'ws1',
    user: 'alice',
    agent: 'coder',
    metric,
    value: 10,
    time: new Date().toISOString(),
    ...overrides,
  }
}

async function post(via: Pod, body: unknown) {
  return via.json<{ accepted: number; message: string; code: string }>(
    '/api/v1/events',
    jsonBody('POST', body),
  )
}

describe('analytics across three pods', () => {
  it('an event posted to pod 1 shows in the aggregates of pods 2 and 3 at once', async () => {
    const [p1, p2, p3] = pods
    expect(await post(p1, event('tokens'))).toMatchObject({ status: 202, body: { accepted: 1 } })
    const first = await p2.json<Aggregate>('/api/v1/analytics/tokens?timeframe=7d')
    expect(first.status).toBe(200)
    expect(first.headers.get('x-cache')).toBe('miss')
    expect(first.body).toMatchObject({ count: 1, sum: 10, timeframe: '7d' })
    expect((await p3.get('/api/v1/analytics/tokens?timeframe=7d')).headers.get('x-cache')).toBe('hit')

    expect(
      (await post(p1, [event('tokens', { value: 5 }), event('tokens', { user: 'bob', value: 7 })])).status,
    ).toBe(202)
    for (const pod of [p2, p3]) {
      const after = await pod.json<Aggregate>('/api/v1/analytics/tokens?timeframe=7d')
      expect(after.body).toMatchObject({ count: 3, sum: 22 })
    }
  })

  it('filters by user, agent and workspace; an event of another metric leaves the entry alone', async () => {
    const [p1, p2] = pods
    await post(p1, [
      event('calls', { user: 'carol', value: 1 }),
      event('calls', { user: 'dave', agent: 'reviewer', value: 2 }),
    ])
    const carol = await p2.json<Aggregate>('/api/v1/analytics/calls?timeframe=24h&user=carol')
    expect(carol.body).toMatchObject({ count: 1, sum: 1 })
    const reviewer = await p2.json<Aggregate>(
      '/api/v1/analytics/calls?timeframe=24h&agent=reviewer&workspace=ws1',
    )
    expect(reviewer.body).toMatchObject({ count: 1, sum: 2 })
    await post(p1, event('other-metric', { user: 'erin', agent: 'x' }))
    expect((await p2.get('/api/v1/analytics/calls?timeframe=24h&user=carol')).headers.get('x-cache')).toBe(
      'hit',
    )
  })

  it('caches for the TTL of the timeframe (read back from Redis)', async () => {
    const [p1] = pods
    await post(p1, event('latency'))
    for (const [timeframe, ttlMs] of [
      ['24h', 5 * 60_000],
      ['1w', 30 * 60_000],
      ['3m', 60 * 60_000],
      ['all', 24 * 60 * 60_000],
    ] as const) {
      expect((await p1.get(`/api/v1/analytics/latency?timeframe=${timeframe}`)).status).toBe(200)
      const key = `strata:analytics:analytics:metric:latency:${hashParams({ timeframe })}`
      const pttl = await client.pttl(key)
      expect(pttl, `${timeframe}: ${key}`).toBeGreaterThan(ttlMs - 60_000)
      expect(pttl).toBeLessThanOrEqual(ttlMs)
    }
  })

  it('refuses bad input with a 400 that says what is wrong, and writes nothing of a bad batch', async () => {
    const [p1, p2] = pods
    const timeframe = await p1.json<{ message: string }>('/api/v1/analytics/tokens?timeframe=2w')
    expect(timeframe.status).toBe(400)
    expect(timeframe.body.message).toContain('unknown timeframe "2w"')
    const badTime = await post(p1, event('tokens', { time: 'yesterday' }))
    expect(badTime.status).toBe(400)
    expect(badTime.body.message).toContain('event.time must be an ISO 8601 date-time')
    const badName = await post(p1, event('tokens', { user: 'a:b' }))
    expect(badName.body.message).toContain('event.user must be 1 to 64 characters')
    const badValue = await post(p1, event('tokens', { value: '3' }))
    expect(badValue.body.message).toContain('event.value must be a finite number')

    const before = (await p2.json<Aggregate>('/api/v1/analytics/batch?timeframe=all')).body.count
    const batch = await post(p1, {
      events: [event('batch'), event('batch', { time: '2026-13-45T00:00:00Z' })],
    })
    expect(batch.status).toBe(400)
    expect(batch.body.message).toContain('events[1].time')
    expect((await p2.json<Aggregate>('/api/v1/analytics/batch?timeframe=all')).body.count).toBe(before)
    expect((await p1.get('/api/v1/analytics/bad%20metric')).status).toBe(400)
  })

  it('protects the cache admin endpoints, and invalidates by pattern', async () => {
    const [p1, p2] = pods
    expect((await p1.get('/api/v1/cache/stats')).status).toBe(401)
    const wrong = await p1.get('/api/v1/cache/stats', { headers: { authorization: 'Bearer nope' } })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"')
    await p2.get('/api/v1/analytics/tokens?timeframe=30d')
    const res = await p1.json<{ deleted_count: number }>(
      '/api/v1/cache/invalidate',
      jsonBody('POST', { pattern: 'analytics:metric:tokens:*' }, auth),
    )
    expect(res.status).toBe(200)
    expect(res.body.deleted_count).toBeGreaterThanOrEqual(1)
    expect((await p2.get('/api/v1/analytics/tokens?timeframe=30d')).headers.get('x-cache')).toBe('miss')
    const bad = await p1.json<{ code: string }>(
      '/api/v1/cache/invalidate',
      jsonBody('POST', { pattern: 'x y' }, auth),
    )
    expect(bad).toMatchObject({ status: 400, body: { code: 'E_INVALID_PATTERN' } })
    const stats = await p2.json<{ cache: Record<string, number> }>('/api/v1/cache/stats', { headers: auth })
    expect(stats.body.cache.keyspace_hits).toBeGreaterThan(0)
    expect(stats.body.cache.connected_clients).toBeGreaterThanOrEqual(3)
  })

  it('serves Prometheus text at /api/v1/metrics', async () => {
    const text = await (await pods[0].get('/api/v1/metrics')).text()
    expect(text).toMatch(/analytics_events_ingested_total [1-9]/)
    expect(text).toMatch(/cache_misses_total\{[^}]*key_pattern="analytics:metric:\*"/)
  })

  it('keeps answering from L1 and the database while Redis is stopped (SIGSTOP)', async () => {
    const [p1, p2] = pods
    await post(p1, event('outage'))
    const before = await p2.json<Aggregate>('/api/v1/analytics/outage?timeframe=24h')
    redis.pause()
    try {
      const cached = await p2.json<Aggregate>('/api/v1/analytics/outage?timeframe=24h')
      expect(cached.status).toBe(200)
      expect(cached.headers.get('x-cache')).toBe('hit')
      expect(cached.body).toEqual(before.body)
      // Ingest still lands in the database; the writing pod reads it back at once.
      expect((await post(p1, event('outage'))).status).toBe(202)
      expect((await p1.json<Aggregate>('/api/v1/analytics/outage?timeframe=24h')).body.count).toBe(2)
    } finally {
      redis.resume()
    }
  })
})
