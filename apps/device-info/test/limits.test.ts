import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AclRedis, startAclRedis } from '@strata-cache/app-kit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonBody, type Pod, startPods } from './pods.ts'

// Issue 13's limits on three pods sharing Redis through the device-info ACL user of deploy/.
const TOKEN = 'device-limits-token-0123456789abcdef01234'
const auth = { authorization: `Bearer ${TOKEN}` }
let dir: string
let redis: AclRedis
let pods: [Pod, Pod, Pod]

type ErrorBody = { error: string; code: string; message: string }
type InfoPage = {
  device: { id: number }
  apiKeys: { id: number; prefix: string }[]
  activeKeyCount: number
  next: number | null
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'device-limits-'))
  redis = await startAclRedis()
  pods = (await startPods(3, {
    REDIS_URL: redis.urlFor('device-info'),
    DATABASE_PATH: join(dir, 'devices.db'),
    CACHE_ADMIN_TOKEN: TOKEN,
    MAX_KEYS_PER_DEVICE: '5',
    RATE_LIMIT_MAX: '100',
    ADMIN_RATE_LIMIT_MAX: '3',
  })) as [Pod, Pod, Pod]
}, 90_000)

afterAll(async () => {
  await Promise.all((pods ?? []).map((pod) => pod.stop()))
  await redis?.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function device(via: Pod, name: string): Promise<number> {
  const created = await via.json<{ id: number }>('/api/devices', jsonBody('POST', { name }))
  expect(created.status).toBe(201)
  return created.body.id
}

const createKey = (via: Pod, id: number) =>
  via.json<{ id: number } & Partial<ErrorBody>>(
    `/api/devices/${id}/api-keys`,
    jsonBody('POST', { name: 'k' }),
  )

describe('device-info limits on three pods', () => {
  it('caps the keys of a device across pods: the one past MAX_KEYS_PER_DEVICE is a 409 E_KEY_LIMIT', async () => {
    const id = await device(pods[0], 'capped')
    for (let i = 0; i < 4; i++) expect((await createKey(pods[i % 3]!, id)).status).toBe(201)
    // Three pods race for the last place: exactly one gets it.
    const race = await Promise.all(pods.map((pod) => createKey(pod, id)))
    expect(race.map((r) => r.status).sort()).toEqual([201, 409, 409])
    const refused = race.find((r) => r.status === 409)!
    expect(refused.body).toEqual({
      error: 'Conflict',
      code: 'E_KEY_LIMIT',
      message: `device ${id} already has 5 API keys, the most it may have (MAX_KEYS_PER_DEVICE): revoke one first`,
    })
    const info = await pods[1].json<InfoPage>(`/api/devices/${id}/info`)
    expect(info.body.activeKeyCount).toBe(5)
    // Revoking one makes room again, on any pod.
    expect(
      (await pods[2].get(`/api/api-keys/${info.body.apiKeys[0]!.id}`, { method: 'DELETE' })).status,
    ).toBe(204)
    expect((await createKey(pods[0], id)).status).toBe(201)
  })

  it('pages the keys of a device out of one cached entry: ?limit and ?after', async () => {
    const [p1, p2] = pods
    const id = await device(p1, 'paged')
    const created: number[] = []
    for (let i = 0; i < 5; i++) created.push((await createKey(p1, id)).body.id)
    // The key writes' invalidations reach pod 2 over the bus: read until its entry has settled.
    let first = await p2.json<InfoPage & { resolvedAt: string }>(`/api/devices/${id}/info?limit=2`)
    const deadline = Date.now() + 5_000
    while (first.headers.get('x-cache') !== 'hit' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      first = await p2.json(`/api/devices/${id}/info?limit=2`)
    }
    expect(first.status).toBe(200)
    expect(first.headers.get('x-cache')).toBe('hit')
    expect(first.body.apiKeys.map((k) => k.id)).toEqual(created.slice(0, 2))
    expect(first.body).toMatchObject({ activeKeyCount: 5, next: created[1] })
    const second = await p2.json<InfoPage & { resolvedAt: string }>(
      `/api/devices/${id}/info?limit=2&after=${first.body.next}`,
    )
    expect(second.headers.get('x-cache')).toBe('hit')
    expect(second.body.resolvedAt).toBe(first.body.resolvedAt) // the same cached entry
    expect(second.body.apiKeys.map((k) => k.id)).toEqual(created.slice(2, 4))
    const last = await p2.json<InfoPage>(`/api/devices/${id}/info?limit=2&after=${second.body.next}`)
    expect(last.body.apiKeys.map((k) => k.id)).toEqual(created.slice(4))
    expect(last.body.next).toBeNull()
    // Without a limit: the first 50, so all five here, and no next page.
    const whole = await p2.json<InfoPage>(`/api/devices/${id}/info`)
    expect(whole.body.apiKeys).toHaveLength(5)
    expect(whole.body.next).toBeNull()
  })

  it('answers a repeated, unknown or out-of-range query parameter with a 400 that names it', async () => {
    const [p1] = pods
    const id = await device(p1, 'query')
    const cases: [string, string][] = [
      [`/api/devices/${id}/info?limit=1&limit=2`, 'query parameter limit is given 2 times: give it once'],
      [`/api/devices/${id}/info?limit=0`, 'query parameter limit must be an integer from 1 to 100, got "0"'],
      [
        `/api/devices/${id}/info?limit=101`,
        'query parameter limit must be an integer from 1 to 100, got "101"',
      ],
      [`/api/devices/${id}/info?after=abc`, 'query parameter after must be a positive integer, got "abc"'],
      [`/api/devices/${id}/info?page=2`, 'query parameter page is not accepted (accepted: limit, after)'],
      [
        `/api/devices/${id}?verbose=1`,
        'query parameter verbose is not accepted (this endpoint takes no query parameters)',
      ],
    ]
    for (const [path, message] of cases) {
      const answer = await p1.json<ErrorBody>(path)
      expect(answer.status, path).toBe(400)
      expect(answer.body.message, path).toBe(message)
    }
    expect((await p1.get(`/api/devices/${id}/info?limit=10`)).status).toBe(200)
    expect(p1.output()).not.toMatch(/"statusCode":500|request failed/)
  })

  it('a wrong admin token is a 401 invalid_token; past ADMIN_RATE_LIMIT_MAX, 429 while the data plane answers', async () => {
    const [, p2] = pods
    const wrong = await p2.json<ErrorBody>('/cache/stats', {
      headers: { authorization: 'Bearer not-the-token' },
    })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer realm="cache-admin", error="invalid_token"')
    expect(wrong.body.code).toBe('E_ADMIN_TOKEN_WRONG')
    const stats = await p2.json<{ cache: { available: boolean } }>('/cache/stats', { headers: auth })
    expect(stats).toMatchObject({ status: 200, body: { cache: { available: true } } })
    expect((await p2.get('/cache/clear', { method: 'POST', headers: auth })).status).toBe(200)
    const limited = await p2.json<ErrorBody>('/cache/stats', { headers: auth })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).not.toBeNull()
    expect(limited.body.code).toBe('E_RATE_LIMITED')
    expect((await p2.get('/api/devices/1')).status).toBe(200)
  })

  it('past RATE_LIMIT_MAX a client gets 429 E_RATE_LIMITED; /health still answers', async () => {
    const [, , p3] = pods
    const answers = await Promise.all(Array.from({ length: 120 }, () => p3.get('/api/devices/1')))
    const statuses = answers.map((a) => a.status)
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(100)
    const limited = answers.find((a) => a.status === 429)
    expect(limited).toBeDefined()
    expect(((await limited!.json()) as ErrorBody).code).toBe('E_RATE_LIMITED')
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true)
    expect((await p3.get('/health')).status).toBe(200)
  })
})
