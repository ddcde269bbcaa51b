import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AclRedis, startAclRedis } from '@strata-cache/app-kit/testing'
import { sleep } from '@strata-cache/test-suite/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonBody, type Pod, startPods } from './pods.ts'

// Issue 13's limits on three pods sharing Redis through the thermal ACL user of deploy/: each
// answers with its status, headers and body, and the rest of the service keeps working.
const TOKEN = 'thermal-limits-token-0123456789abcdef0123'
const auth = { authorization: `Bearer ${TOKEN}` }
const BUS_SECRET = 'thermal-bus-secret-0123456789abcdef012345'
let dir: string
let redis: AclRedis
let admin: Redis
let pods: [Pod, Pod, Pod]

type ErrorBody = { error: string; code: string; message: string }

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'thermal-limits-'))
  redis = await startAclRedis()
  admin = new Redis(redis.server.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  await admin.connect()
  pods = (await startPods(3, {
    REDIS_URL: redis.urlFor('thermal'),
    DATABASE_PATH: join(dir, 'thermal.db'),
    CACHE_ADMIN_TOKEN: TOKEN,
    CACHE_BUS_SECRET: BUS_SECRET,
    MAX_CONCURRENT_COMPUTATIONS: '1',
    OPTIMIZATION_EVALUATIONS: '300',
    RATE_LIMIT_MAX: '150',
    ADMIN_RATE_LIMIT_MAX: '4',
    ERROR_LOG_INTERVAL: '1s',
  })) as [Pod, Pod, Pod]
}, 90_000)

afterAll(async () => {
  redis?.server.resume()
  admin?.disconnect()
  await Promise.all((pods ?? []).map((pod) => pod.stop()))
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function rack(via: Pod, name: string, devices: number): Promise<number> {
  const created = await via.json<{ id: number }>('/api/racks', jsonBody('POST', { name, heightU: 42 }))
  expect(created.status).toBe(201)
  for (let i = 0; i < devices; i++) {
    const position = { name: `d${i}`, startU: 1 + i * 8, heightU: 2, powerWatts: 900 + 300 * i }
    expect(
      (await via.get(`/api/racks/${created.body.id}/positions`, jsonBody('POST', position))).status,
    ).toBe(201)
  }
  return created.body.id
}

/** Polls a pod's metrics every 100 ms (not faster: the polls count against its rate limit). */
async function waitForComputation(pod: Pod): Promise<void> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const metrics = await (await pod.get('/metrics')).text()
    if (/^thermal_computations_in_flight\{kind="optimization"\} [1-9]/m.test(metrics)) return
    await sleep(100)
  }
  throw new Error('the optimization did not start within 15 s')
}

async function infoCalls(): Promise<number> {
  const text = String(await admin.info('commandstats'))
  return Number(/cmdstat_info:calls=(\d+)/.exec(text)?.[1] ?? 0)
}

describe('thermal limits on three pods', () => {
  it('rounds supplyC and thresholdC to 0.1 °C before hashing: near-equal inputs are one entry', async () => {
    const [p1] = pods
    const id = await rack(p1, 'rounding', 1)
    const first = await p1.json<{ supplyC: number; thresholdC: number }>(
      `/api/racks/${id}/thermal-analysis?supplyC=20.000001&thresholdC=26.96`,
    )
    expect(first.status).toBe(200)
    expect(first.headers.get('x-cache')).toBe('miss')
    expect(first.body).toMatchObject({ supplyC: 20, thresholdC: 27 })
    for (const query of ['supplyC=19.96&thresholdC=27', 'supplyC=20.04&thresholdC=27.04', 'supplyC=20']) {
      const again = await p1.get(`/api/racks/${id}/thermal-analysis?${query}`)
      expect(again.headers.get('x-cache'), query).toBe('hit')
    }
    const other = await p1.json<{ supplyC: number }>(`/api/racks/${id}/thermal-analysis?supplyC=20.1`)
    expect(other.headers.get('x-cache')).toBe('miss')
    expect(other.body.supplyC).toBe(20.1)
  })

  it('with CACHE_BUS_SECRET, forged invalidations sent through the app user change nothing, real ones reach every pod', async () => {
    const [p1, p2] = pods
    const id = await rack(p1, 'signed', 1)
    const path = `/api/racks/${id}/thermal-analysis`
    const deadline = Date.now() + 5_000
    while ((await p2.get(path)).headers.get('x-cache') !== 'hit' && Date.now() < deadline) await sleep(100)
    const forger = new Redis(redis.urlFor('thermal'), { lazyConnect: true, maxRetriesPerRequest: 0 })
    await forger.connect()
    try {
      expect(await forger.publish('strata:thermal:bus', '1|forger|1|c|')).toBeGreaterThan(0)
      await forger.publish('strata:thermal:bus', `1|forger|2|p|thermal:rack:${id}:*`)
    } finally {
      forger.disconnect()
    }
    await sleep(300)
    // Drop the entry from Redis behind the pods' backs: now only pod 2's L1 can answer a hit.
    const keys = await admin.keys(`strata:thermal:thermal:rack:${id}:*`)
    if (keys.length > 0) await admin.unlink(...keys)
    expect((await p2.get(path)).headers.get('x-cache')).toBe('hit')
    // A signed invalidation (a write through pod 1) still reaches pod 2.
    const position = { name: 'more', startU: 30, heightU: 1, powerWatts: 300 }
    expect((await p1.get(`/api/racks/${id}/positions`, jsonBody('POST', position))).status).toBe(201)
    // The notice rides the bus to pod 2 (at most once, a moment later): its L1 entry goes.
    const heatLoad = async () => (await p2.json<{ totalHeatLoadW: number }>(path)).body.totalHeatLoadW
    const until = Date.now() + 3_000
    while ((await heatLoad()) !== 1_200 && Date.now() < until) await sleep(50)
    expect(await heatLoad()).toBe(1_200)
  })

  it('caps cold computations per pod: a full pod answers 503 E_BUSY with Retry-After, the database and other pods still answer', async () => {
    const [p1, p2] = pods
    const slow = await rack(p1, 'slow', 5)
    const other = await rack(p1, 'other', 2)
    const optimization = p1.json<{ evaluations: number }>(`/api/racks/${slow}/optimization`)
    try {
      await waitForComputation(p1)
      const busy = await p1.json<ErrorBody>(`/api/racks/${other}/thermal-analysis`)
      expect(busy.status).toBe(503)
      expect(busy.headers.get('retry-after')).toBe('2')
      expect(busy.body).toEqual({
        error: 'Service Unavailable',
        code: 'E_BUSY',
        message: 'this pod is already running 1 cold computation (MAX_CONCURRENT_COMPUTATIONS); retry in 2 s',
      })
      // The database needs no slot (nor do cache hits: test/computation-slots.test.ts, in process,
      // where this machine's load cannot time out the pod's Redis reads); another pod has its own.
      expect((await p1.get(`/api/racks/${other}`)).status).toBe(200)
      expect((await p2.get(`/api/racks/${other}/thermal-analysis`)).status).toBe(200)
    } finally {
      // Whatever happened above, the next test starts with pod 1's slot free.
      expect((await optimization).status).toBe(200)
    }
    // The 503 was not cached: once the slot is free, pod 1 answers.
    expect((await p1.get(`/api/racks/${other}/thermal-analysis?supplyC=19`)).status).toBe(200)
  })

  it('answers a repeated or unknown query parameter with a 400 that names it, never a 500', async () => {
    const [p1] = pods
    const id = await rack(p1, 'query', 1)
    const repeated = await p1.json<ErrorBody>(`/api/racks/${id}/thermal-analysis?supplyC=20&supplyC=21`)
    expect(repeated).toMatchObject({
      status: 400,
      body: { code: 'E_BAD_REQUEST', message: 'query parameter supplyC is given 2 times: give it once' },
    })
    const search = await p1.json<ErrorBody>('/api/specs/search?q=dell&q=hpe')
    expect(search.status).toBe(400)
    expect(search.body.message).toBe('query parameter q is given 2 times: give it once')
    const unknown = await p1.json<ErrorBody>('/api/racks?page=2')
    expect(unknown).toMatchObject({
      status: 400,
      body: { message: 'query parameter page is not accepted (this endpoint takes no query parameters)' },
    })
    const stats = await p1.json<ErrorBody>('/health/cache/stats?verbose=1')
    expect(stats.status).toBe(400)
    expect((await p1.get(`/api/racks/${id}/thermal-analysis?supplyC=20`)).status).toBe(200)
    expect(p1.output()).not.toMatch(/"statusCode":500|request failed/)
  })

  it('a wrong admin token is a 401 invalid_token; past ADMIN_RATE_LIMIT_MAX, 429 while the data plane answers', async () => {
    const [, , p3] = pods
    const wrong = await p3.json<ErrorBody>('/health/cache/clear', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}x` },
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="cache-admin", error="invalid_token"')
    expect(wrong.body).toEqual({
      error: 'Unauthorized',
      code: 'E_ADMIN_TOKEN_WRONG',
      message: 'the bearer token is not the admin token',
    })
    for (let i = 0; i < 3; i++) {
      const ok = await p3.get('/health/cache/invalidate/search:specs:*', { method: 'DELETE', headers: auth })
      expect(ok.status).toBe(200)
    }
    const limited = await p3.json<ErrorBody>('/health/cache/clear', { method: 'POST', headers: auth })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(limited.body.code).toBe('E_RATE_LIMITED')
    expect(limited.body.message).toMatch(
      /^too many requests: at most 4 per minute from one address; retry in /,
    )
    expect((await p3.get('/api/racks')).status).toBe(200)
    // Counted per pod: pod 1's admin endpoints still answer.
    expect((await pods[0].get('/health/cache/clear', { method: 'POST', headers: auth })).status).toBe(200)
  })

  it('reads Redis for /health/detailed and /health/cache/stats at most once a second, however many ask', async () => {
    const [, p2] = pods
    await p2.get('/health/cache/stats')
    const before = await infoCalls()
    const answers = await Promise.all([
      ...Array.from({ length: 25 }, () => p2.json<{ cache: { available: boolean } }>('/health/cache/stats')),
      ...Array.from({ length: 25 }, () => p2.json<{ status: string }>('/health/detailed')),
    ])
    const after = await infoCalls()
    for (const answer of answers) expect(answer.status).toBe(200)
    // One read of the memo (maybe two, if a second boundary fell inside), plus this test's own INFO.
    expect(after - before).toBeLessThanOrEqual(3)
    expect(answers[0]!.body).toMatchObject({ cache: { available: true } })
  })

  it('logs a cache error in full once per kind, its repeats as a count, through an outage', async () => {
    const [, p2] = pods
    const outputBefore = p2.output().length
    const before = (await p2.json<{ cache: { failure_count: number } }>('/health/cache/stats')).body.cache
    redis.server.pause()
    try {
      for (let i = 0; i < 30; i++) {
        expect((await p2.get(`/api/specs/search?q=outage${i}`)).status).toBe(200)
      }
    } finally {
      redis.server.resume()
    }
    await sleep(1_500) // past ERROR_LOG_INTERVAL: the counts are written
    const after = (await p2.json<{ cache: { failure_count: number } }>('/health/cache/stats')).body.cache
    const errors = after.failure_count - before.failure_count
    const lines = p2.output().slice(outputBefore).split('\n')
    const full = lines.filter((line) => line.includes('"msg":"cache error absorbed'))
    const repeated = lines.filter((line) => line.includes('"msg":"cache error repeated"'))
    expect(errors).toBeGreaterThanOrEqual(30)
    expect(full.length).toBeGreaterThan(0)
    expect(full.length).toBeLessThan(errors / 3)
    expect(repeated.length).toBeGreaterThan(0)
    expect(repeated[0]).toMatch(/"repeats":[1-9]/)
  })

  it('past RATE_LIMIT_MAX a client gets 429 E_RATE_LIMITED with Retry-After; /health and other clients still answer', async () => {
    const [p1, , p3] = pods
    const answers = await Promise.all(Array.from({ length: 170 }, () => p3.get('/api/racks')))
    const statuses = answers.map((a) => a.status)
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(150)
    const limited = answers.find((a) => a.status === 429)
    expect(limited).toBeDefined()
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(limited!.headers.get('x-ratelimit-limit')).toBe('150')
    expect(((await limited!.json()) as ErrorBody).code).toBe('E_RATE_LIMITED')
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true)
    expect((await p3.get('/health')).status).toBe(200)
    expect((await p1.get('/api/racks')).status).toBe(200)
  })
})
