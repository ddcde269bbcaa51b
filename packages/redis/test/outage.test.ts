import { Cache, type StoreEvent } from '@strata-cache/core'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { commandCalls, uniquePrefix } from './helpers.ts'

// These tests SIGSTOP and SIGKILL the server: with REDIS_URL pointing at a server we did not start,
// we cannot (and must not) signal it, so they are skipped.
const external = Boolean(process.env.REDIS_URL)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface DriveResult {
  calls: number
  rejections: unknown[]
  wrongValues: unknown[]
}

/** 20 concurrent callers of getOrSet over 50 keys for `ms`, paced so the CPU stays shared. */
async function drive(cache: Cache, ms: number, tag: string): Promise<DriveResult> {
  const result: DriveResult = { calls: 0, rejections: [], wrongValues: [] }
  const until = Date.now() + ms
  await Promise.all(
    Array.from({ length: 20 }, async (_, worker) => {
      for (let i = 0; Date.now() < until; i++) {
        const key = `outage:${(worker * 7 + i) % 50}`
        try {
          const value = await cache.getOrSet(key, () => `${tag}:${key}`)
          result.calls++
          if (typeof value !== 'string' || !value.endsWith(`:${key}`)) result.wrongValues.push(value)
        } catch (error) {
          result.rejections.push(error)
        }
        await sleep(5)
      }
    }),
  )
  return result
}

describe.skipIf(external)(
  'RedisStore under outages (real redis-server, signalled by pid; skipped when REDIS_URL names a server we must not signal)',
  () => {
    let server: RedisServer

    beforeAll(async () => {
      server = await startRedisServer()
    })

    afterAll(async () => {
      await server?.stop()
    })

    it('hung server (SIGSTOP 3 s): getOrSet never rejects, the breaker opens, and closes by itself after SIGCONT', async () => {
      const store = new RedisStore({ url: server.url, prefix: uniquePrefix('stop') })
      const breaker: StoreEvent[] = []
      store.subscribe((e) => e.type === 'breaker' && breaker.push(e))
      const cache = new Cache({ store, defaultTtl: '1m' })
      const errors: string[] = []
      cache.on('error', (e) => errors.push((e.error as { code?: string }).code ?? 'unknown'))
      try {
        expect(await cache.getOrSet('outage:1', () => 'before:outage:1')).toBe('before:outage:1')
        server.pause()
        let outage: DriveResult
        try {
          outage = await drive(cache, 3000, 'during')
          expect(store.isAvailable()).toBe(false)
        } finally {
          server.resume()
        }
        expect(outage.rejections).toEqual([])
        expect(outage.wrongValues).toEqual([])
        expect(outage.calls).toBeGreaterThan(20)
        expect(breaker.map((e) => e.type === 'breaker' && e.state)).toContain('open')
        expect(errors).toContain('E_COMMAND_TIMEOUT')
        expect(errors).toContain('E_CIRCUIT_OPEN')
        expect((await cache.stats()).errors).toBeGreaterThan(0)
        await vi.waitFor(() => expect(store.isAvailable()).toBe(true), { timeout: 5000, interval: 50 })
        expect(breaker.at(-1)).toMatchObject({ type: 'breaker', state: 'closed', previous: 'half-open' })
        await cache.set('outage:after', 'written after SIGCONT')
        const fresh = new Redis(server.url)
        expect(await fresh.get(store.keyFor('outage:after'))).toContain('written after SIGCONT')
        fresh.disconnect()
        expect((await store.health())[0]!.status).toBe('up')
      } finally {
        await cache.close()
        await store.close()
      }
    })

    it('dead server (SIGKILL, restart on the same port after 3 s): no rejection, recovery by itself, writes work again', async () => {
      const store = new RedisStore({ url: server.url, prefix: uniquePrefix('kill') })
      const states: string[] = []
      store.subscribe((e) => e.type === 'breaker' && states.push(e.state))
      const cache = new Cache({ store, defaultTtl: '1m' })
      try {
        await cache.set('outage:1', 'before')
        await server.kill()
        const during = drive(cache, 4000, 'during')
        await sleep(3000)
        expect(store.isAvailable()).toBe(false)
        expect((await store.health())[0]!.status).toBe('down')
        await server.restart()
        const outage = await during
        expect(outage.rejections).toEqual([])
        expect(outage.wrongValues).toEqual([])
        expect(states).toContain('open')
        await vi.waitFor(() => expect(store.isAvailable()).toBe(true), { timeout: 5000, interval: 50 })
        expect(states.at(-1)).toBe('closed')
        await cache.set('outage:after', 'written after restart')
        const fresh = new Redis(server.url)
        expect(await fresh.get(store.keyFor('outage:after'))).toContain('written after restart')
        fresh.disconnect()
        expect(await cache.get('outage:after')).toBe('written after restart')
      } finally {
        await cache.close()
        await store.close()
      }
    })

    it('while open, fails fast: no caller command reaches Redis', async () => {
      // A long probe interval keeps the breaker open once tripped, so we can watch a fresh server's stats.
      const store = new RedisStore({
        url: server.url,
        prefix: uniquePrefix('fast'),
        breaker: { probeInterval: '1h' },
      })
      const cache = new Cache({ store })
      try {
        expect(await store.ready()).toBe(true)
        await server.kill()
        for (let i = 0; i < 5; i++) await cache.get(`k:${i}`)
        expect(store.breakerState).toBe('open')
        // The restarted server starts with empty command stats.
        await server.restart()
        await vi.waitFor(() => expect(store.client.status).toBe('ready'), { timeout: 5000, interval: 20 })
        for (let i = 0; i < 50; i++) expect(await cache.getOrSet(`k:${i}`, () => i)).toBe(i)
        const probe = new Redis(server.url)
        const info = await probe.info('commandstats')
        probe.disconnect()
        expect(commandCalls(info, 'get')).toBe(0)
        expect(commandCalls(info, 'set')).toBe(0)
        expect(store.breakerState).toBe('open')
      } finally {
        await cache.close()
        await store.close()
      }
    })
  },
)
