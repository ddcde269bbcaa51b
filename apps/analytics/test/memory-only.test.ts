import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonBody, type Pod, runToExit, startPod } from './pods.ts'

// The embedded default: no REDIS_URL and no CACHE_ADMIN_TOKEN.
let dir: string
let pod: Pod

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'analytics-mem-'))
  pod = await startPod('memory', { DATABASE_PATH: join(dir, 'analytics.db') })
})

afterAll(async () => {
  await pod?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('memory-only pod', () => {
  it('caches an aggregate and drops it when an event of its user arrives', async () => {
    const event = {
      workspace: 'w',
      user: 'u1',
      agent: 'a1',
      metric: 'm1',
      value: 2,
      time: new Date().toISOString(),
    }
    expect((await pod.get('/api/v1/events', jsonBody('POST', event))).status).toBe(202)
    const path = '/api/v1/analytics/m1?timeframe=24h&user=u1'
    expect((await pod.get(path)).headers.get('x-cache')).toBe('miss')
    expect((await pod.get(path)).headers.get('x-cache')).toBe('hit')
    await pod.get('/api/v1/events', jsonBody('POST', { ...event, value: 3 }))
    const after = await pod.json<{
      count: number
      sum: number
      series: { bucketStart: string; count: number }[]
    }>(path)
    expect(after.headers.get('x-cache')).toBe('miss')
    expect(after.body).toMatchObject({ count: 2, sum: 5 })
    // 24h is counted per hour: both events (posted within a second) fall in hour buckets.
    for (const bucket of after.body.series) expect(Date.parse(bucket.bucketStart) % 3_600_000).toBe(0)
    expect(after.body.series.reduce((n, b) => n + b.count, 0)).toBe(2)
  })

  it('disables the admin endpoints when no token is configured (404 with a message)', async () => {
    const res = await pod.json<{ code: string }>('/api/v1/cache/clear', { method: 'POST' })
    expect(res).toMatchObject({ status: 404, body: { code: 'E_ADMIN_DISABLED' } })
  })

  it('exits at start naming a bad TTL', async () => {
    const { code, output } = await runToExit({ ANALYTICS_TTL_24H: '-5m', DATABASE_PATH: join(dir, 'x.db') })
    expect(code).toBe(1)
    expect(output).toContain('ANALYTICS_TTL_24H="-5m" is not a duration')
  })

  it('exits 0 on SIGTERM', async () => {
    const other = await startPod('term', { DATABASE_PATH: join(dir, 'term.db') })
    other.signal('SIGTERM')
    expect(await other.exited).toBe(0)
  })
})
