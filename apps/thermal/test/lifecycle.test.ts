import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runToExit, startPod } from './pods.ts'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'thermal-life-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('configuration at start', () => {
  it.each([
    [{ PORT: 'eighty' }, 'PORT="eighty" must be an integer from 0 to 65535'],
    [{ THERMAL_TTL: '5 minutes' }, 'THERMAL_TTL="5 minutes" is not a duration'],
    [{ REDIS_URL: 'http://localhost:6379' }, 'REDIS_URL must start with redis:// or rediss://'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL="loud" must be one of'],
    [{ OPTIMIZATION_EVALUATIONS: '0' }, 'OPTIMIZATION_EVALUATIONS="0" must be an integer from 1'],
  ])('exits 1 naming the bad variable: %o', async (env, message) => {
    const { code, output } = await runToExit({ ...env, DATABASE_PATH: join(dir, 'bad.db') })
    expect(code).toBe(1)
    expect(output).toContain('invalid configuration')
    expect(output).toContain(message)
  })

  it('never prints the Redis password of a bad URL', async () => {
    const { code, output } = await runToExit({
      REDIS_URL: 'redis://:hunter2@',
      DATABASE_PATH: join(dir, 'bad.db'),
    })
    expect(code).toBe(1)
    expect(output).not.toContain('hunter2')
  })
})

describe('graceful shutdown', () => {
  it('finishes a request in flight on SIGTERM, then exits 0', async () => {
    const pod = await startPod('term', {
      DATABASE_PATH: join(dir, 'term.db'),
      SEED_SAMPLE_RACKS: 'true',
      OPTIMIZATION_EVALUATIONS: '20',
    })
    const racks = (await pod.json<{ racks: { id: number }[] }>('/api/racks')).body.racks
    expect(racks.length).toBe(3)
    // An optimization takes a while; SIGTERM arrives while it runs.
    const inFlight = pod.json<{ evaluations: number }>(`/api/racks/${racks[0]!.id}/optimization`)
    await new Promise((resolve) => setTimeout(resolve, 150))
    pod.signal('SIGTERM')
    const response = await inFlight
    expect(response.status).toBe(200)
    expect(response.body.evaluations).toBe(20)
    const code = await pod.exited
    expect(code, pod.output()).toBe(0)
  })
})
