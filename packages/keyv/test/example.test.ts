import { fileURLToPath } from 'node:url'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { startChildPod } from '@strata-cache/test-suite/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// The README's example runs as written, memory only and with Redis.
const EXAMPLE = fileURLToPath(new URL('../examples/cache-manager.ts', import.meta.url))
const EXPECTED = [
  "wrap   { sku: 'rack-42', price: 100 }",
  "wrap   { sku: 'rack-42', price: 100 } (loads: 1)",
  'mget   [ 7, 0, undefined ]',
  'ttl    60 s left',
  'del    undefined',
  'clear  undefined',
]

let server: RedisServer
beforeAll(async () => {
  server = await startRedisServer()
})
afterAll(() => server?.stop())

describe('examples/cache-manager.ts', () => {
  for (const redis of [false, true]) {
    it(redis ? 'with REDIS_URL' : 'memory only', async () => {
      const { REDIS_URL: _ignored, ...env } = process.env
      const example = startChildPod({
        name: 'example',
        script: EXAMPLE,
        channel: 'none',
        env: redis ? { ...env, REDIS_URL: server.url } : env,
      })
      expect(await example.exited, example.output()).toBe(0)
      expect(example.output().trim().split('\n')).toEqual(EXPECTED)
    })
  }
})
