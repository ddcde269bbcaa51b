import { type Cache, CacheError, CacheErrorCode } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../src/create-cache.ts'
import type { BusEvent } from '../src/invalidation.ts'
import { RedisBus } from '../src/redis-bus.ts'
import { RedisLock } from '../src/redis-lock.ts'
import { TieredStore } from '../src/tiered-store.ts'
import { sleep, until } from './helpers/wait.ts'

let server: RedisServer
const caches: Cache[] = []
let counter = 0

beforeAll(async () => {
  server = await startRedisServer({ ownServer: true })
})
afterAll(async () => {
  server?.resume()
  await server?.stop()
})
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})

function track(cache: Cache): Cache {
  caches.push(cache)
  return cache
}

function optionError(run: () => unknown): CacheError {
  try {
    run()
  } catch (error) {
    expect(CacheError.is(error)).toBe(true)
    return error as CacheError
  }
  throw new Error('expected a CacheError')
}

describe('createCache', () => {
  it('without redisUrl builds a memory-only cache', async () => {
    for (const options of [undefined, {}, { redisUrl: '' }, { redisUrl: undefined }]) {
      const cache = track(createCache(options))
      expect(cache.store).toBeInstanceOf(MemoryStore)
      await cache.set('a', 1)
      expect(await cache.get('a')).toBe(1)
      expect((await cache.health()).status).toBe('up')
    }
  })

  it('passes Cache defaults and L1 options through', async () => {
    let now = 1_000_000
    const cache = track(
      createCache({ defaultTtl: '10s', grace: '5s', l1: { maxEntries: 2 }, now: () => now }),
    )
    await cache.set('a', 1)
    now += 11_000
    expect(await cache.get('a')).toBeUndefined()
    expect(await cache.get('a', { allowStale: true })).toBe(1)
    await cache.set('b', 2)
    await cache.set('c', 3)
    await cache.set('d', 4)
    expect((await cache.stats()).tiers[0]?.entries).toBe(2)
  })

  it('refuses unknown or malformed options with a CacheOptionError naming them', () => {
    expect(optionError(() => createCache({ redisURL: 'redis://x' } as never)).message).toContain(
      'unknown option "redisURL"',
    )
    expect(optionError(() => createCache({ redisUrl: 42 } as never)).option).toBe('redisUrl')
    expect(optionError(() => createCache({ redisUrl: 'localhost:6379' })).message).toContain('redis://')
    expect(optionError(() => createCache({ l1: 'big' } as never)).option).toBe('l1')
    expect(optionError(() => createCache({ l1: { maxItems: 3 } } as never)).message).toContain('maxItems')
    expect(optionError(() => createCache({ defaultTtl: 'forever' })).code).toBe(
      CacheErrorCode.INVALID_DURATION,
    )
    expect(
      optionError(() => createCache({ redisUrl: server.url, bus: { instanceId: 'no spaces' } })).option,
    ).toBe('instanceId')
  })

  it('reads nothing from the environment', async () => {
    const saved = process.env.REDIS_URL
    process.env.REDIS_URL = server.url
    try {
      const cache = track(createCache())
      expect(cache.store).toBeInstanceOf(MemoryStore)
    } finally {
      if (saved === undefined) delete process.env.REDIS_URL
      else process.env.REDIS_URL = saved
    }
  })

  it('with redisUrl builds L1 + L2 + bus, and getOrSet with lock works', async () => {
    const prefix = `cc${++counter}:`
    const cache = track(createCache({ redisUrl: server.url, prefix, lock: true }))
    const store = cache.store as TieredStore
    expect(store).toBeInstanceOf(TieredStore)
    expect(await store.ready()).toBe(true)
    expect(store.lock).toBeDefined()
    // createCache wires the lock: a RedisLock keyed outside the store's key space.
    expect(store.lock).toBeInstanceOf(RedisLock)
    expect((store.lock as RedisLock).lockKey('user:1')).toBe(`cc${counter}#lock:user:1`)
    let runs = 0
    const value = await cache.getOrSet('user:1', () => {
      runs++
      return { name: 'Ada' }
    })
    expect(value).toEqual({ name: 'Ada' })
    expect(await cache.getOrSet('user:1', () => ({ name: 'other' }))).toEqual({ name: 'Ada' })
    expect(runs).toBe(1)
    const health = await cache.health()
    expect(health.status).toBe('up')
    expect(health.checks.map((c) => c.tier)).toEqual(['memory', 'redis', 'bus'])
  })
})

describe('a set and its invalidation', () => {
  it('leave on the store connection together, the SET first: whoever is told of it finds it in Redis', async () => {
    const prefix = `cc${++counter}:`
    const cache = track(createCache({ redisUrl: server.url, prefix }))
    expect(await (cache.store as TieredStore).ready()).toBe(true)
    // The lock is there for getOrSet({ lock: true }) even though `lock` (every getOrSet) is off.
    expect((cache.store as TieredStore).lock).toBeInstanceOf(RedisLock)
    const admin = new Redis(server.url)
    const monitor = await admin.monitor()
    const seen: { command: string; source: string; arg: string }[] = []
    try {
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        // The write is one fenced script (EVALSHA, first key the entry); what the script runs inside
        // shows up from source "lua" and is not a command of the connection.
        if (source.includes('lua')) return
        const command = String(args[0]).toLowerCase()
        const script = command === 'evalsha' || command === 'eval'
        const target = String(script ? args[3] : args[1])
        if ((script || command === 'publish') && target.startsWith(prefix)) {
          seen.push({ command: script ? 'write' : command, source, arg: script ? target : String(args[2]) })
        }
      })
      for (let round = 0; round < 20; round++) await cache.set(`item:${round}`, `round-${round}`)
      await until(() => seen.length === 40)
      for (let round = 0; round < 20; round++) {
        const write = seen[2 * round]!
        const notice = seen[2 * round + 1]!
        expect(write).toMatchObject({ command: 'write', arg: `${prefix}item:${round}` })
        // The invalidation right behind it, on the same connection, as the next message of stream 0.
        expect(notice.command).toBe('publish')
        expect(notice.source).toBe(write.source)
        expect(notice.arg).toMatch(new RegExp(`^1\\|[0-9a-f]+~0\\|${round + 1}\\|k\\|item:${round}$`))
      }
    } finally {
      monitor.disconnect()
      admin.disconnect()
    }
  })
})

describe('tiered cache while Redis is down', () => {
  it('serves and writes L1, reports degraded, and publishes queued invalidations when Redis is back', async () => {
    const own = await startRedisServer({ ownServer: true })
    const prefix = 'down:'
    const cache = track(
      createCache({
        redisUrl: own.url,
        prefix,
        degradedL1Ttl: '1h', // so this test sees L1 serve; the degraded TTL has its own test
        bus: { heartbeat: '100ms', localDelivery: false },
        redis: { breaker: { probeInterval: '100ms' } },
        defaultTtl: '1h',
      }),
    )
    const store = cache.store as TieredStore
    const observer = new RedisBus({
      url: own.url,
      prefix,
      heartbeat: 0,
      localDelivery: false,
      instanceId: 'observer',
    })
    const seen: BusEvent[] = []
    observer.subscribe((event) => seen.push(event))
    const errors: unknown[] = []
    cache.on('error', (event) => errors.push(event))
    const breaker: string[] = []
    cache.on('breaker', (event) => breaker.push(event.state))
    const bus: string[] = []
    cache.on('bus', (event) => bus.push(event.state))
    try {
      await Promise.all([store.ready(), observer.ready()])
      await cache.set('a', 'before')
      await cache.set('b', 'before')
      // Hung rather than killed: the observer keeps its subscription (no heartbeat), so what it
      // receives afterwards shows what the cache published.
      own.pause()
      // Trip the breaker: L2 failures are misses and error events, never a caller's error.
      await until(async () => {
        await cache.set('c', 'during')
        return store.l2.isAvailable?.() === false
      }, 10_000)
      expect(errors.length).toBeGreaterThan(0)
      expect(breaker).toContain('open') // L2's own events reach the Cache through the TieredStore
      expect(await cache.get('a')).toBe('before')
      await cache.set('a', 'during')
      expect(await cache.get('a')).toBe('during')
      expect(await cache.delete('b')).toBe(true) // L1's answer while L2 is unavailable
      expect(await cache.invalidate('zz*')).toBe(0)
      const health = await cache.health()
      expect(health.status).toBe('degraded')
      expect(health.checks.filter((c) => c.status === 'down').map((c) => c.tier)).toEqual(['redis', 'bus'])
      // What L2 could not apply waits in the store's repairs (keys c, a, b and the pattern), and its
      // notices in the bus's queue: they go out when Redis is back, and again after each repair.
      const rows = await store.stats()
      expect(rows.find((s) => s.tier === 'bus')?.details).toMatchObject({ pending: 4 })
      expect(repairsPending(rows)).toBe(4)

      own.resume()
      await until(
        async () =>
          store.bus?.isConnected() === true &&
          (store.bus?.counters().pending ?? 1) === 0 &&
          repairsPending(await store.stats()) === 0,
        15_000,
      )
      // The repairs reached L2, then their notices went out (keys batched in one message).
      const invalidations = () => seen.flatMap((e) => (e.type === 'invalidation' ? [e.invalidation] : []))
      const keysSeen = () => new Set(invalidations().flatMap((i) => (i.kind === 'key' ? i.keys : [])))
      await until(() => ['a', 'b', 'c'].every((k) => keysSeen().has(k)), 5000, 'key notices')
      expect(invalidations()).toContainEqual({ kind: 'pattern', pattern: 'zz*' })
      // Reconnecting purged L1, and the writes L2 missed left no older value behind: their repair
      // deleted 'a' and 'c' in L2, so a read is a miss, never the 'before' that L2 held.
      await until(() => store.l2.isAvailable?.() === true, 10_000)
      await sleep(10)
      expect(await cache.get('a')).toBeUndefined()
      expect(await store.l2.get('a')).toBeUndefined()
      expect(await store.l2.get('b')).toBeUndefined()
      expect((await cache.health()).status).toBe('up')
      expect(breaker.at(-1)).toBe('closed')
      expect(bus).toEqual(expect.arrayContaining(['disconnected', 'connected']))
    } finally {
      await observer.close()
      await cache.close()
      await own.stop()
    }
  }, 40_000)
})

/** How many removals the tiered store still holds for L2 (the `repairs` figures of L2's stats row). */
function repairsPending(
  rows: readonly { tier: string; details?: Record<string, unknown> }[],
): number | undefined {
  const repairs = rows.find((row) => row.tier === 'redis')?.details?.repairs as
    | { pending?: number }
    | undefined
  return repairs?.pending
}

describe('two pods filling one cold key at once', () => {
  it('converge on what L2 holds: the later fill replaces the earlier and tells its pod', async () => {
    const prefix = `cc${++counter}:`
    const a = track(createCache({ redisUrl: server.url, prefix }))
    const b = track(createCache({ redisUrl: server.url, prefix }))
    expect(await (a.store as TieredStore).ready()).toBe(true)
    expect(await (b.store as TieredStore).ready()).toBe(true)
    // B misses first and holds its loader open while A misses, loads and fills.
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    let bLoading!: () => void
    const bStarted = new Promise<void>((resolve) => {
      bLoading = resolve
    })
    const fromB = b.getOrSet('item:shared', async () => {
      bLoading()
      await held
      return 'from-b'
    })
    await bStarted
    expect(await a.getOrSet('item:shared', () => 'from-a')).toBe('from-a')
    release()
    expect(await fromB).toBe('from-b')
    // Whichever fill L2 kept, both pods serve it: neither keeps its own result against it.
    const admin = new Redis(server.url)
    try {
      await until(async () => {
        const inL2 = await b.getOrSet('item:shared', () => 'reloaded')
        return (await a.get('item:shared')) === inL2 && (await b.get('item:shared')) === inL2
      })
      expect(await admin.exists(`${prefix}item:shared`)).toBe(1)
    } finally {
      admin.disconnect()
    }
  })
})
