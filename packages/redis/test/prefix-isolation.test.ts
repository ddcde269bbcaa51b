import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { entry } from './helpers.ts'

const N = 10_000
let server: RedisServer
let raw: Redis

/** Writes N keys `<prefix>user:<i>` straight into Redis, the way another application would. */
async function fill(prefix: string, value = 'foreign'): Promise<void> {
  const pipeline = raw.pipeline()
  for (let i = 0; i < N; i++) pipeline.set(`${prefix}user:${i}`, value, 'EX', 600)
  await pipeline.exec()
}

async function scanAll(match: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', match, 'COUNT', 2000)
    cursor = next
    found.push(...keys)
  } while (cursor !== '0')
  return found
}

async function count(match: string): Promise<number> {
  return (await scanAll(match)).length
}

/**
 * What `clear()` leaves under `prefix`: only its fences (`<prefix>#f…`, which tell a late fill the
 * prefix was cleared), each expiring within the fence window. Returns how many other keys remain.
 */
async function leftAfterClear(prefix: string, escapedPrefix = prefix): Promise<number> {
  const keys = await scanAll(`${escapedPrefix}*`)
  const fences = keys.filter((k) => k.startsWith(`${prefix}#f`))
  for (const fence of fences) {
    const ttl = await raw.pttl(fence)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)
  }
  expect(fences).toContain(`${prefix}#fc`)
  return keys.length - fences.length
}

beforeAll(async () => {
  // Its own server: the counts below are of the whole keyspace.
  server = await startRedisServer({ ownServer: true })
  raw = new Redis(server.url)
})

afterAll(async () => {
  raw?.disconnect()
  await server?.stop()
})

describe('prefix isolation with 10,000 keys per prefix', () => {
  it('clear and deletePattern on app: never touch apple: (or unprefixed) keys', async () => {
    const store = new RedisStore({ url: server.url, prefix: 'app:', commandTimeout: 2000 })
    try {
      await fill('apple:')
      await fill('')
      const entries = Array.from({ length: N }, (_, i): [string, ReturnType<typeof entry<number>>] => [
        `user:${i}`,
        entry(i, { tags: [`group${i % 10}`] }),
      ])
      await store.setMany(entries)
      expect(await count('app:user:*')).toBe(N)

      expect(await store.deletePattern('user:1*')).toBe(1111)
      expect(await count('app:user:*')).toBe(N - 1111)
      expect(await store.deleteTags(['group0'])).toBe(N / 10 - 111)

      await store.clear()
      expect(await leftAfterClear('app:')).toBe(0)
      expect(await count('apple:user:*')).toBe(N)
      expect(await count('user:*')).toBe(N)
      expect(await raw.get('apple:user:9999')).toBe('foreign')
    } finally {
      await store.close()
    }
  })

  it('glob characters in a prefix are escaped: t?x: never touches tax: keys', async () => {
    const store = new RedisStore({ url: server.url, prefix: 't?x:', commandTimeout: 2000 })
    try {
      await fill('tax:')
      await store.set('user:1', entry('mine'))
      expect(await store.deletePattern('user:*')).toBe(1)
      await store.set('user:1', entry('mine'))
      await store.clear()
      expect(await leftAfterClear('t?x:', 't\\?x:')).toBe(0)
      expect(await count('tax:user:*')).toBe(N)
    } finally {
      await store.close()
    }
  })
})
