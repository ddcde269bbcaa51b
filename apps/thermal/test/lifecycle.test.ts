import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { until } from '@strata-cache/test-suite/testing'
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
    [{ MAX_CONCURRENT_COMPUTATIONS: '0' }, 'MAX_CONCURRENT_COMPUTATIONS="0" must be an integer from 1'],
    [{ RATE_LIMIT_MAX: 'lots' }, 'RATE_LIMIT_MAX="lots" must be an integer from 0'],
    [{ CACHE_ADMIN_TOKEN: 'hunter2' }, 'CACHE_ADMIN_TOKEN is 7 characters long, fewer than 32'],
    [
      { CACHE_ADMIN_TOKEN: 'replace-with-the-output-of-openssl-rand-hex-32' },
      'CACHE_ADMIN_TOKEN is the placeholder "replace-with-the-output-of-openssl-rand-hex-32" from the examples',
    ],
    [{ CACHE_ADMIN_TOKEN: 'change-me-too' }, 'is the placeholder "change-me-too"'],
  ])('exits 1 naming the bad variable: %o', async (env, message) => {
    const { code, output } = await runToExit({ ...env, DATABASE_PATH: join(dir, 'bad.db') })
    expect(code).toBe(1)
    expect(output).toContain('invalid configuration')
    expect(output).toContain(message)
  })

  it('never prints a short admin token it refuses', async () => {
    const { code, output } = await runToExit({
      CACHE_ADMIN_TOKEN: 'hunter2-hunter2',
      DATABASE_PATH: join(dir, 'bad.db'),
    })
    expect(code).toBe(1)
    expect(output).toContain('CACHE_ADMIN_TOKEN is 15 characters long')
    expect(output).not.toContain('hunter2')
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

describe('grace', () => {
  it('serves the stale analysis (x-cache: stale) when recomputing takes longer than the soft timeout', async () => {
    // A 1 ms TTL expires every entry at once; 10 min of grace keeps it servable; a 1 ms soft
    // timeout serves it while the (hundreds of ms) recomputation runs in the background.
    const pod = await startPod('grace', {
      DATABASE_PATH: join(dir, 'grace.db'),
      SEED_SAMPLE_RACKS: 'true',
      THERMAL_TTL: '1',
      CACHE_GRACE: '10m',
      CACHE_SOFT_TIMEOUT: '1',
    })
    try {
      type Analysis = { computedAt: string }
      const first = await pod.json<Analysis>('/api/racks/1/thermal-analysis')
      expect(first.headers.get('x-cache')).toBe('miss')
      const second = await pod.json<Analysis>('/api/racks/1/thermal-analysis')
      expect(second.headers.get('x-cache')).toBe('stale')
      expect(second.body.computedAt).toBe(first.body.computedAt)
      const stats = await pod.json<{ cache: { keyspace_hits: number } }>('/health/cache/stats')
      expect(stats.body.cache.keyspace_hits).toBe(1) // a stale answer counts as a (stale) hit
    } finally {
      await pod.stop()
    }
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
    // An optimization takes a while; SIGTERM arrives once the pod reports it running.
    let answered = false
    const inFlight = pod.json<{ evaluations: number }>(`/api/racks/${racks[0]!.id}/optimization`)
    void inFlight.then(() => {
      answered = true
    })
    await until(
      async () => {
        expect(answered, 'the optimization answered before the pod reported it running').toBe(false)
        const metrics = await (await pod.get('/metrics')).text()
        return /^thermal_computations_in_flight\{kind="optimization"\} [1-9]/m.test(metrics)
      },
      15_000,
      'the optimization running (thermal_computations_in_flight)',
    )
    pod.signal('SIGTERM')
    const response = await inFlight
    expect(response.status).toBe(200)
    expect(response.body.evaluations).toBe(20)
    const code = await pod.exited
    expect(code, pod.output()).toBe(0)
  })
})
