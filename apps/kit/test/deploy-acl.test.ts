import { execFileSync } from 'node:child_process'
import type { Cache } from '@strata-cache/core'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AppCache, createAppCache } from '../src/index.ts'
import { ACL_PASSWORDS, type AclRedis, type AclUser, startAclRedis } from '../src/testing/index.ts'

// deploy/redis/redis-acl.sh gives each app one Redis user: its key prefix, its lock keys, its bus
// and application channels, the commands Strata sends. Two caches per app ("pods") do everything a
// pod does through that user, and nothing else gets through.
let redis: AclRedis
const opened: AppCache[] = []

beforeAll(async () => {
  redis = await startAclRedis()
}, 30_000)

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await redis?.stop()
})

function pod(user: AclUser): { cache: Cache; errors: unknown[] } {
  const appCache = createAppCache(user, redis.urlFor(user), { defaultTtl: '1m', lockWait: '2s' })
  opened.push(appCache)
  const errors: unknown[] = []
  appCache.cache.on('error', (event) => errors.push(`${event.operation}: ${String(event.error)}`))
  return { cache: appCache.cache, errors }
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000
  while (Date.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('deploy ACL: what an app may do', () => {
  it.each(['thermal', 'device-info', 'analytics'] as const)(
    '%s: sets, reads, tags, patterns, locks, clears, stats and channels work, with no error',
    async (user) => {
      const a = pod(user)
      const b = pod(user)
      for (const p of [a, b])
        await eventually(async () => (await p.cache.health()).status === 'up', 'L2 and bus up')
      // Entries and tags, read by the other pod through L2.
      await a.cache.set('item:1:x', { n: 1 }, { tags: ['group:1'] })
      await a.cache.set('item:2:x', { n: 2 }, { tags: ['group:1'] })
      expect(await b.cache.get('item:1:x')).toEqual({ n: 1 })
      // Loader with the cross-pod lock.
      expect(await b.cache.getOrSet('computed:1', () => 42, { lock: true })).toBe(42)
      expect(await a.cache.getOrSet('computed:1', () => 0, { lock: true })).toBe(42)
      // Invalidation by tag and by pattern, heard by the other pod over the bus.
      expect(await a.cache.invalidateTags(['group:1'])).toBe(2)
      await eventually(async () => (await b.cache.get('item:1:x')) === undefined, 'the tag invalidation')
      await a.cache.set('item:3:x', 3)
      expect(await b.cache.get('item:3:x')).toBe(3)
      expect(await a.cache.invalidate('item:*')).toBe(1)
      await eventually(async () => (await b.cache.get('item:3:x')) === undefined, 'the pattern invalidation')
      // Application channels (`<prefix>app:<name>`) ride on the same channel pattern as the bus.
      const subscriber = new Redis(redis.urlFor(user), { lazyConnect: true, maxRetriesPerRequest: 0 })
      const publisher = new Redis(redis.urlFor(user), { lazyConnect: true, maxRetriesPerRequest: 0 })
      await Promise.all([subscriber.connect(), publisher.connect()])
      const heard: string[] = []
      subscriber.on('message', (_channel: string, message: string) => heard.push(message))
      await subscriber.subscribe(`strata:${user}:app:notes`)
      expect(await publisher.publish(`strata:${user}:app:notes`, 'hello')).toBe(1)
      await eventually(async () => heard.length === 1, 'the application message')
      subscriber.disconnect()
      publisher.disconnect()
      // Stats read INFO; clear empties the prefix.
      const stats = await a.cache.stats()
      const l2 = stats.tiers.find((t) => t.tier === 'redis')
      expect(l2?.available).toBe(true)
      expect((l2?.details as { connectedClients?: number } | undefined)?.connectedClients).toBeGreaterThan(0)
      await a.cache.clear()
      expect(await b.cache.get('computed:1')).toBeUndefined()
      expect([...a.errors, ...b.errors]).toEqual([])
    },
  )
})

describe('deploy ACL: what an app may not do', () => {
  let client: Redis
  beforeAll(async () => {
    client = new Redis(redis.urlFor('thermal'), { lazyConnect: true, maxRetriesPerRequest: 0 })
    await client.connect()
  })
  afterAll(() => client?.disconnect())

  const refused = async (command: string, ...args: (string | number)[]) => {
    const error = await client.call(command, ...args).then(
      () => undefined,
      (e: Error) => e,
    )
    // NOPERM from the ACL; a script's call names the user; DEBUG is also off in the server's own config.
    expect(error?.message, `${command} ${args.join(' ')}`).toMatch(
      /^NOPERM|^ERR The user executing the script can't run this command|^ERR DEBUG command not allowed/,
    )
  }

  it("refuses another app's keys and channels, also from inside a script", async () => {
    expect(await client.set('strata:thermal:own', '1')).toBe('OK')
    await refused('GET', 'strata:analytics:analytics:metric:x')
    await refused('SET', 'strata:device-info:x', '1')
    await refused('DEL', 'strata:analytics#lock:x')
    await refused('SET', 'other:x', '1')
    await refused('PUBLISH', 'strata:analytics:bus', 'clear')
    await refused('PUBLISH', 'strata:bus', 'clear')
    await refused('SPUBLISH', 'strata:analytics:bus', 'clear') // the bus of a cluster: sharded pub/sub
    await refused('EVAL', "return redis.call('GET', KEYS[1])", 1, 'strata:analytics:x')
    await refused('EVAL', "return redis.call('FLUSHALL')", 0)
    const subscriber = new Redis(redis.urlFor('thermal'), { lazyConnect: true, maxRetriesPerRequest: 0 })
    await subscriber.connect()
    await expect(subscriber.subscribe('strata:analytics:bus')).rejects.toThrow(/NOPERM/)
    subscriber.disconnect()
  })

  it.each([
    ['FLUSHALL'],
    ['FLUSHDB'],
    ['KEYS', '*'],
    ['CONFIG', 'GET', 'requirepass'],
    ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru'],
    ['DEBUG', 'SLEEP', '0'],
    ['SHUTDOWN', 'NOSAVE'],
    ['CLIENT', 'LIST'],
    ['CLIENT', 'KILL', 'TYPE', 'pubsub'],
    ['SCRIPT', 'FLUSH'],
    ['FUNCTION', 'FLUSH'],
    ['ACL', 'LIST'],
    ['SELECT', '1'],
    ['SAVE'],
    ['REPLICAOF', 'NO', 'ONE'],
    ['MIGRATE', '127.0.0.1', '1', 'strata:thermal:own', '0', '100'],
  ])('refuses %s', async (command, ...args) => {
    await refused(command, ...args)
  })
})

describe('deploy/redis/redis-acl.sh', () => {
  const script = new URL('../../../deploy/redis/redis-acl.sh', import.meta.url).pathname
  const run = (env: Record<string, string>) => {
    try {
      execFileSync('sh', [script], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'pipe' })
      return ''
    } catch (error) {
      return String((error as { stderr?: Buffer }).stderr)
    }
  }

  it('writes hashes, never a password in clear', () => {
    for (const password of Object.values(ACL_PASSWORDS)) expect(redis.acl).not.toContain(password)
    expect(redis.acl.split('\n').filter((line) => line.startsWith('user '))).toHaveLength(4)
  })

  it('refuses a missing, short or placeholder password, printing nothing', () => {
    expect(run({ ...ACL_PASSWORDS, THERMAL_REDIS_PASSWORD: '' })).toContain(
      'THERMAL_REDIS_PASSWORD is not set',
    )
    expect(run({ ...ACL_PASSWORDS, ANALYTICS_REDIS_PASSWORD: 'hunter2' })).toContain(
      'ANALYTICS_REDIS_PASSWORD is 7 characters long, fewer than 32',
    )
    expect(run({ ...ACL_PASSWORDS, REDIS_PASSWORD: 'change-me' })).toContain('is the placeholder "change-me"')
  })
})
