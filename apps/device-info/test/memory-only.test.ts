import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonBody, type Pod, runToExit, startPod } from './pods.ts'

// The embedded default: no REDIS_URL and no CACHE_ADMIN_TOKEN.
let dir: string
let pod: Pod

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'device-mem-'))
  pod = await startPod('memory', { DATABASE_PATH: join(dir, 'devices.db') })
})

afterAll(async () => {
  await pod?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('memory-only pod', () => {
  it('caches info and drops it when a key is created', async () => {
    const device = await pod.json<{ id: number }>('/api/devices', jsonBody('POST', { name: 'm' }))
    expect((await pod.get(`/api/devices/${device.body.id}/info`)).headers.get('x-cache')).toBe('miss')
    expect((await pod.get(`/api/devices/${device.body.id}/info`)).headers.get('x-cache')).toBe('hit')
    await pod.get(`/api/devices/${device.body.id}/api-keys`, jsonBody('POST', { name: 'k' }))
    const after = await pod.json<{ activeKeyCount: number }>(`/api/devices/${device.body.id}/info`)
    expect(after.headers.get('x-cache')).toBe('miss')
    expect(after.body.activeKeyCount).toBe(1)
  })

  it('disables the admin endpoints when no token is configured (404 with a message)', async () => {
    const res = await pod.json<{ code: string; message: string }>('/cache/stats', {
      headers: { authorization: 'Bearer anything' },
    })
    expect(res.status).toBe(404)
    expect(res.body.code).toBe('E_ADMIN_DISABLED')
    expect(res.body.message).toContain('CACHE_ADMIN_TOKEN')
  })

  it('exits at start naming a bad variable', async () => {
    const { code, output } = await runToExit({ DEVICE_INFO_TTL: 'soon', DATABASE_PATH: join(dir, 'x.db') })
    expect(code).toBe(1)
    expect(output).toContain('DEVICE_INFO_TTL="soon" is not a duration')
  })

  it('exits 0 on SIGTERM', async () => {
    const other = await startPod('term', { DATABASE_PATH: join(dir, 'term.db') })
    other.signal('SIGTERM')
    expect(await other.exited).toBe(0)
  })
})
