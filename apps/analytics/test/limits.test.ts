import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AclRedis, startAclRedis } from '@strata-cache/app-kit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonBody, type Pod, startPods } from './pods.ts'

// Issue 13's limits on three pods sharing Redis through the analytics ACL user of deploy/.
const TOKEN = 'analytics-limits-token-0123456789abcdef012'
const auth = { authorization: `Bearer ${TOKEN}` }
const HOUR = 3_600_000
const DAY = 24 * HOUR
let dir: string
let redis: AclRedis
let pods: [Pod, Pod, Pod]

type ErrorBody = { error: string; code: string; message: string }
type Series = {
  count: number
  series: { bucketStart: string; count: number }[]
  seriesTotal: number
  next: string | null
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'analytics-limits-'))
  redis = await startAclRedis()
  pods = (await startPods(3, {
    REDIS_URL: redis.urlFor('analytics'),
    DATABASE_PATH: join(dir, 'analytics.db'),
    CACHE_ADMIN_TOKEN: TOKEN,
    RATE_LIMIT_MAX: '100',
    ADMIN_RATE_LIMIT_MAX: '3',
    EVENT_MAX_AGE: '30d',
  })) as [Pod, Pod, Pod]
}, 90_000)

afterAll(async () => {
  await Promise.all((pods ?? []).map((pod) => pod.stop()))
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

function event(metric: string, timeMs: number, overrides: object = {}) {
  return {
    workspace: 'ws',
    user: 'alice',
    agent: 'coder',
    metric,
    value: 1,
    time: new Date(timeMs).toISOString(),
    ...overrides,
  }
}

const post = (via: Pod, body: unknown) =>
  via.json<{ accepted: number } & Partial<ErrorBody>>('/api/v1/events', jsonBody('POST', body))

describe('analytics limits on three pods', () => {
  it('refuses event times outside the window (EVENT_MAX_AGE back, EVENT_MAX_AHEAD ahead), writing nothing of the batch', async () => {
    const [p1, p2] = pods
    const now = Date.now()
    const old = await post(p1, event('window', Date.parse('1970-01-01T00:00:00Z')))
    expect(old.status).toBe(400)
    expect(old.body.code).toBe('E_INVALID_EVENT')
    expect(old.body.message).toMatch(
      /^event\.time must lie from \S+ to \S+ \(EVENT_MAX_AGE back, EVENT_MAX_AHEAD ahead\), got "1970-01-01T00:00:00\.000Z"$/,
    )
    const ahead = await post(p1, event('window', now + HOUR))
    expect(ahead.status).toBe(400)
    expect(ahead.body.message).toContain('event.time must lie from')
    const batch = await post(p2, { events: [event('window', now), event('window', now - 31 * DAY)] })
    expect(batch.status).toBe(400)
    expect(batch.body.message).toContain('events[1].time must lie from')
    const all = await p2.json<Series>('/api/v1/analytics/window?timeframe=all')
    expect(all.body.count).toBe(0)
    expect((await post(p1, event('window', now - 29 * DAY))).status).toBe(202)
    expect((await p2.json<Series>('/api/v1/analytics/window?timeframe=30d')).body.count).toBe(1)
  })

  it('pages a series out of one cached entry: ?limit and ?after', async () => {
    const [p1, p2] = pods
    const now = Date.now()
    // One event in each of six whole hours of the last day.
    const hours = [2, 4, 6, 8, 10, 12].map((h) => Math.floor((now - h * HOUR) / HOUR) * HOUR + 60_000)
    expect(
      (
        await post(
          p1,
          hours.map((t) => event('paged', t)),
        )
      ).status,
    ).toBe(202)
    // The batch's invalidation reaches pod 2 over the bus: read until its entry has settled.
    let path = '/api/v1/analytics/paged?timeframe=24h&limit=4'
    const deadline = Date.now() + 5_000
    while ((await p2.get(path)).headers.get('x-cache') !== 'hit' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const pages: Series[] = []
    for (;;) {
      const page = await p2.json<Series & { computedAt: string }>(path)
      expect(page.status).toBe(200)
      expect(page.headers.get('x-cache')).toBe('hit') // every page is cut from the one cached entry
      if (pages.length > 0)
        expect(page.body.computedAt).toBe((pages[0] as Series & { computedAt: string }).computedAt)
      pages.push(page.body)
      if (page.body.next === null) break
      path = `/api/v1/analytics/paged?timeframe=24h&limit=4&after=${encodeURIComponent(page.body.next)}`
    }
    expect(pages.map((p) => p.series.length)).toEqual([4, 2])
    expect(pages.every((p) => p.seriesTotal === 6 && p.count === 6)).toBe(true)
    const starts = pages.flatMap((p) => p.series.map((b) => Date.parse(b.bucketStart)))
    expect(starts).toEqual([...hours].sort((a, b) => a - b).map((t) => Math.floor(t / HOUR) * HOUR))
    expect(pages[0]!.next).toBe(pages[0]!.series[3]!.bucketStart)
  })

  it('answers a repeated, unknown or malformed query parameter with a 400 that names it', async () => {
    const [p1] = pods
    const cases: [string, string][] = [
      [
        '/api/v1/analytics/m?timeframe=24h&timeframe=7d',
        'query parameter timeframe is given 2 times: give it once',
      ],
      ['/api/v1/analytics/m?user=a&user=b', 'query parameter user is given 2 times: give it once'],
      [
        '/api/v1/analytics/m?colour=red',
        'query parameter colour is not accepted (accepted: timeframe, user, agent, workspace, limit, after)',
      ],
      ['/api/v1/analytics/m?limit=0', 'query parameter limit must be an integer from 1 to 1000, got "0"'],
      [
        '/api/v1/analytics/m?after=yesterday',
        'query parameter after must be the bucketStart of the last bucket seen, an ISO 8601 date-time, got "yesterday"',
      ],
      [
        '/api/v1/metrics?format=json',
        'query parameter format is not accepted (this endpoint takes no query parameters)',
      ],
    ]
    for (const [path, message] of cases) {
      const answer = await p1.json<ErrorBody>(path)
      expect(answer.status, path).toBe(400)
      expect(answer.body.message, path).toBe(message)
    }
    expect((await p1.get('/api/v1/analytics/m?timeframe=24h&limit=5')).status).toBe(200)
    expect(p1.output()).not.toMatch(/"statusCode":500|request failed/)
  })

  it('a wrong admin token is a 401 invalid_token; past ADMIN_RATE_LIMIT_MAX, 429 while the data plane answers', async () => {
    const [, p2] = pods
    const wrong = await p2.json<ErrorBody>('/api/v1/cache/clear', {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="cache-admin", error="invalid_token"')
    expect(wrong.body.code).toBe('E_ADMIN_TOKEN_WRONG')
    const stats = await p2.json<{ cache: { available: boolean } }>('/api/v1/cache/stats', { headers: auth })
    expect(stats).toMatchObject({ status: 200, body: { cache: { available: true } } })
    const invalidated = await p2.json(
      '/api/v1/cache/invalidate',
      jsonBody('POST', { pattern: 'analytics:metric:paged:*' }, auth),
    )
    expect(invalidated.status).toBe(200)
    const limited = await p2.json<ErrorBody>('/api/v1/cache/stats', { headers: auth })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).not.toBeNull()
    expect(limited.body.code).toBe('E_RATE_LIMITED')
    expect((await p2.get('/api/v1/analytics/paged?timeframe=24h')).status).toBe(200)
  })

  it('past RATE_LIMIT_MAX a client gets 429 E_RATE_LIMITED; /health still answers', async () => {
    const [, , p3] = pods
    const answers = await Promise.all(
      Array.from({ length: 120 }, () => p3.get('/api/v1/analytics/paged?timeframe=24h')),
    )
    const statuses = answers.map((a) => a.status)
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(100)
    const limited = answers.find((a) => a.status === 429)
    expect(limited).toBeDefined()
    expect(((await limited!.json()) as ErrorBody).code).toBe('E_RATE_LIMITED')
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true)
    expect((await p3.get('/health')).status).toBe(200)
  })
})
