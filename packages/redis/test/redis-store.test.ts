import { Cache, CacheError, type Serializer } from '@strata-cache/core'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { commandCalls, entry, recordEvents, TEST_COMMAND_TIMEOUT, uniquePrefix } from './helpers.ts'

let server: RedisServer
let raw: Redis
const stores: RedisStore[] = []

function makeStore(options: Partial<ConstructorParameters<typeof RedisStore>[0]> = {}): RedisStore {
  const store = new RedisStore({
    url: server.url,
    prefix: uniquePrefix(),
    commandTimeout: TEST_COMMAND_TIMEOUT,
    ...options,
  })
  stores.push(store)
  return store
}

beforeAll(async () => {
  server = await startRedisServer()
  raw = new Redis(server.url)
})

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()))
  raw?.disconnect()
  await server?.stop()
})

describe('RedisStore entries', () => {
  it('round-trips an entry with its timing, tags and tier name', async () => {
    const store = makeStore()
    const e = entry({ n: 1, when: new Date('2024-01-02T03:04:05Z') }, { graceMs: 5000, tags: ['a', 'b'] })
    await store.set('user:1', e)
    const back = await store.get<typeof e.value>('user:1')
    expect(back).toEqual({ ...e, tier: 'redis' })
    expect(back?.value.when).toBeInstanceOf(Date)
  })

  it('reports its own tier name on entries read back', async () => {
    const store = makeStore({ name: 'l2' })
    await store.set('k', entry('v'))
    expect((await store.get('k'))?.tier).toBe('l2')
  })

  it('stores each key under the prefix with PX = staleUntil - now, never without expiry', async () => {
    const store = makeStore()
    const e = entry('v', { ttlMs: 10_000, graceMs: 20_000 })
    await store.set('k', e)
    const pttl = await raw.pttl(store.keyFor('k'))
    expect(pttl).toBeGreaterThan(20_000)
    expect(pttl).toBeLessThanOrEqual(30_000)
  })

  it('does not write an entry already past staleUntil, and deletes the old one', async () => {
    const store = makeStore()
    await store.set('k', entry('old'))
    const now = Date.now()
    await store.set('k', {
      value: 'new',
      createdAt: now - 10_000,
      expiresAt: now - 5000,
      staleUntil: now - 1,
    })
    expect(await raw.exists(store.keyFor('k'))).toBe(0)
    expect(await store.get('k')).toBeUndefined()
  })

  it('never returns an entry past staleUntil by its clock, even while Redis still holds it', async () => {
    let now = Date.now()
    const store = makeStore({ now: () => now })
    await store.set('k', entry('v', { now, ttlMs: 1000, graceMs: 1000 }))
    now += 1500
    expect((await store.get('k'))?.value).toBe('v')
    now += 600
    expect(await store.get('k')).toBeUndefined()
  })

  it('getMany returns entries in key order with misses as undefined', async () => {
    const store = makeStore()
    await store.setMany([
      ['a', entry(1)],
      ['c', entry(3)],
    ])
    const got = await store.getMany(['a', 'b', 'c', 'a'])
    expect(got.map((e) => e?.value)).toEqual([1, undefined, 3, 1])
    expect(await store.getMany([])).toEqual([])
  })

  it('setMany checks every value before writing any', async () => {
    const store = makeStore()
    await expect(
      store.setMany<unknown>([
        ['ok', entry<unknown>('fine')],
        ['bad', entry<unknown>({ f: () => 1 })],
      ]),
    ).rejects.toMatchObject({ code: 'E_SERIALIZATION' })
    expect(await raw.exists(store.keyFor('ok'))).toBe(0)
  })

  it('delete says whether an entry was removed', async () => {
    const store = makeStore()
    await store.set('k', entry('v'))
    expect(await store.delete('k')).toBe(true)
    expect(await store.delete('k')).toBe(false)
    expect(await store.get('k')).toBeUndefined()
  })

  it('refuses a value the serializer cannot encode, keeping the previous one', async () => {
    const store = makeStore()
    await store.set('k', entry('previous'))
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await expect(store.set('k', entry(cyclic))).rejects.toMatchObject({ code: 'E_SERIALIZATION' })
    await expect(store.set('k', entry(10n))).rejects.toMatchObject({ code: 'E_SERIALIZATION' })
    expect((await store.get('k'))?.value).toBe('previous')
  })

  it('refuses a value over maxValueBytes with an error naming the key and sizes, before any write', async () => {
    const store = makeStore({ maxValueBytes: 1000 })
    await store.set('big', entry('small'))
    const error = await store.set('big', entry('x'.repeat(2000))).catch((e: unknown) => e)
    expect(CacheError.is(error, 'E_VALUE_TOO_LARGE')).toBe(true)
    expect(String((error as Error).message)).toMatch(/"big".*\d+ bytes.*maxValueBytes 1000/)
    expect((await store.get('big'))?.value).toBe('small')
    // Multi-byte characters count as bytes, not characters.
    await expect(store.set('big2', entry('é'.repeat(600)))).rejects.toMatchObject({
      code: 'E_VALUE_TOO_LARGE',
    })
    expect(await raw.exists(store.keyFor('big2'))).toBe(0)
  })

  it('defaults commandTimeout to 100 ms', () => {
    const store = new RedisStore({ url: server.url, prefix: uniquePrefix() })
    stores.push(store)
    expect(store.commandTimeoutMs).toBe(100)
  })

  it('defaults maxValueBytes to 1 MiB', async () => {
    const store = makeStore()
    expect(store.maxValueBytes).toBe(1024 * 1024)
    await expect(store.set('k', entry('x'.repeat(1024 * 1024)))).rejects.toMatchObject({
      code: 'E_VALUE_TOO_LARGE',
    })
    await store.set('k', entry('x'.repeat(1000 * 1000)))
    expect((await store.get<string>('k'))?.value.length).toBe(1000 * 1000)
  })

  it('uses a custom serializer', async () => {
    const upper: Serializer = {
      name: 'upper',
      serialize: (v) => String(v).toUpperCase(),
      deserialize: (d) => d.toLowerCase(),
    }
    const store = makeStore({ serializer: upper })
    await store.set('k', entry('hello'))
    expect(await raw.get(store.keyFor('k'))).toContain('HELLO')
    expect((await store.get('k'))?.value).toBe('hello')
  })
})

describe('RedisStore setFollowedBy', () => {
  it('writes, then runs the follow-up on the same connection, which names itself by id', async () => {
    const store = makeStore({ pool: { size: 2 } })
    await vi.waitFor(async () => {
      expect((await store.stats())[0]!.details).toMatchObject({ readyConnections: 2 })
    })
    const channel = `${uniquePrefix('ch')}bus`
    const subscriber = new Redis(server.url)
    const messages: string[] = []
    // Whether each key was already written when its message arrived.
    const writtenWhenTold: Promise<number>[] = []
    try {
      await subscriber.subscribe(channel)
      subscriber.on('message', (_c: string, message: string) => {
        messages.push(message)
        writtenWhenTold.push(raw.exists(store.keyFor(message.split(' ')[0]!)))
      })
      const ids: number[] = []
      for (let i = 0; i < 4; i++) {
        const followed = await store.setFollowedBy(`k${i}`, entry(i), ({ client, id }) => {
          ids.push(id)
          return client.publish(channel, `k${i} on ${id}`)
        })
        expect(followed).toBe(true)
      }
      expect((await store.getMany<number>(['k0', 'k1', 'k2', 'k3'])).map((e) => e?.value)).toEqual([
        0, 1, 2, 3,
      ])
      expect(store.canFollowWrites).toBe(true)
      // Round robin over the two connections: each one its own id.
      expect([...new Set(ids)].sort()).toEqual([0, 1])
      await vi.waitFor(() => expect(messages).toHaveLength(4))
      expect(messages).toEqual(ids.map((id, i) => `k${i} on ${id}`))
      expect(await Promise.all(writtenWhenTold)).toEqual([1, 1, 1, 1])
    } finally {
      subscriber.disconnect()
    }
  })

  it('refuses bad input before any I/O: no write, no follow-up', async () => {
    const store = makeStore({ maxValueBytes: 100 })
    let asked = 0
    const followUp = async () => {
      asked++
    }
    await expect(store.setFollowedBy('k', entry('x'.repeat(500)), followUp)).rejects.toMatchObject({
      code: 'E_VALUE_TOO_LARGE',
    })
    await expect(store.setFollowedBy('k', entry(10n), followUp)).rejects.toMatchObject({
      code: 'E_SERIALIZATION',
    })
    expect(asked).toBe(0)
    expect(await raw.exists(store.keyFor('k'))).toBe(0)
  })

  it('resolves false, reported like a failed set, when the follow-up fails', async () => {
    const store = makeStore()
    const events = recordEvents(store)
    const followed = await store.setFollowedBy('k', entry('v'), ({ client }) =>
      client.call('NO-SUCH-COMMAND'),
    )
    expect(followed).toBe(false)
    expect(events).toMatchObject([{ type: 'error', operation: 'set', key: 'k' }])
    // Redis ran the write before the follow-up.
    expect((await store.get('k'))?.value).toBe('v')
  })

  it('resolves false without a follow-up when Redis cannot be asked (no connection, then an open breaker)', async () => {
    const store = makeStore({ url: 'redis://127.0.0.1:1', connectTimeout: 50 })
    let asked = 0
    const followUp = async () => {
      asked++
    }
    expect(await store.setFollowedBy('k', entry('v'), followUp)).toBe(false)
    await vi.waitFor(async () => {
      await store.setFollowedBy('k', entry('v'), followUp)
      expect(store.breakerState).not.toBe('closed')
    })
    expect(await store.setFollowedBy('k', entry('v'), followUp)).toBe(false)
    expect(asked).toBe(0)
  })
})

describe('RedisStore pattern deletes, tags and clear', () => {
  it('deletePattern removes matching keys of this store with * and ?', async () => {
    const store = makeStore()
    await store.setMany<number | string>([
      ['user:1', entry(1)],
      ['user:2', entry(2)],
      ['user:10', entry(10)],
      ['order:1', entry<number | string>('o')],
    ])
    expect(await store.deletePattern('user:?')).toBe(2)
    expect(await store.get('user:10')).toBeDefined()
    expect(await store.deletePattern('*')).toBe(2)
    expect(await store.get('order:1')).toBeUndefined()
  })

  it('deleteTags removes tagged keys, counts them once, and uses no keyspace SCAN', async () => {
    const store = makeStore()
    await store.setMany<string>([
      ['a', entry('a', { tags: ['red', 'blue'] })],
      ['b', entry('b', { tags: ['red'] })],
      ['c', entry('c', { tags: ['green'] })],
      ['d', entry('d')],
    ])
    const scansBefore = commandCalls(await raw.info('commandstats'), 'scan')
    expect(await store.deleteTags(['red', 'blue'])).toBe(2)
    expect(commandCalls(await raw.info('commandstats'), 'scan')).toBe(scansBefore)
    expect(await store.get('a')).toBeUndefined()
    expect(await store.get('b')).toBeUndefined()
    expect((await store.get('c'))?.value).toBe('c')
    expect((await store.get('d'))?.value).toBe('d')
    expect(await store.deleteTags(['red'])).toBe(0)
    expect(await store.deleteTags([])).toBe(0)
  })

  it('keeps a key re-written without the tag when the tag is invalidated', async () => {
    const store = makeStore()
    await store.set('k', entry('v1', { tags: ['old'] }))
    await store.set('k', entry('v2', { tags: ['new'] }))
    expect(await store.deleteTags(['old'])).toBe(0)
    expect((await store.get('k'))?.value).toBe('v2')
    expect(await store.deleteTags(['new'])).toBe(1)
  })

  it('gives a tag set an expiry at least as long as its longest member', async () => {
    const store = makeStore()
    await store.set('long', entry(1, { ttlMs: 100_000, tags: ['t'] }))
    await store.set('short', entry(2, { ttlMs: 1000, tags: ['t'] }))
    const tagTtl = await raw.pttl(store.tagKeyFor('t'))
    expect(tagTtl).toBeGreaterThanOrEqual(await raw.pttl(store.keyFor('long')))
    await store.set('longer', entry(3, { ttlMs: 500_000, tags: ['t'] }))
    expect(await raw.pttl(store.tagKeyFor('t'))).toBeGreaterThan(400_000)
  })

  it('deleteTags works through tag sets larger than one SSCAN batch', async () => {
    const store = makeStore()
    const entries: [string, ReturnType<typeof entry<number>>][] = []
    for (let i = 0; i < 1500; i++) entries.push([`item:${i}`, entry(i, { tags: ['bulk'] })])
    await store.setMany(entries)
    expect(await store.deleteTags(['bulk'])).toBe(1500)
    expect(await raw.exists(store.tagKeyFor('bulk'))).toBe(0)
  })

  it('clear removes entries and tag sets of this prefix with SCAN + UNLINK, never KEYS or FLUSHDB', async () => {
    const store = makeStore()
    const other = makeStore()
    await store.set('a', entry('a', { tags: ['t'] }))
    await other.set('a', entry('other'))
    const before = await raw.info('commandstats')
    await store.clear()
    const after = await raw.info('commandstats')
    expect(commandCalls(after, 'keys')).toBe(commandCalls(before, 'keys'))
    expect(commandCalls(after, 'flushdb')).toBe(commandCalls(before, 'flushdb'))
    expect(commandCalls(after, 'flushall')).toBe(commandCalls(before, 'flushall'))
    expect(commandCalls(after, 'scan')).toBeGreaterThan(commandCalls(before, 'scan'))
    expect(await store.get('a')).toBeUndefined()
    expect(await raw.exists(store.tagKeyFor('t'))).toBe(0)
    expect((await other.get('a'))?.value).toBe('other')
  })

  it('rejects an invalid pattern or tag before any I/O', async () => {
    const store = makeStore()
    await expect(store.set('k', entry('v', { tags: ['a,b'] }))).rejects.toMatchObject({
      code: 'E_INVALID_KEY',
    })
    expect(await raw.exists(store.keyFor('k'))).toBe(0)
    await expect(store.deletePattern('a b*')).rejects.toMatchObject({ code: 'E_INVALID_PATTERN' })
    await expect(store.deleteTags(['no space'])).rejects.toMatchObject({ code: 'E_INVALID_KEY' })
  })
})

describe('RedisStore operations surface', () => {
  it('stats report availability, breaker and INFO figures', async () => {
    const store = makeStore()
    await store.set('k', entry('v'))
    await store.get('k')
    await store.get('missing')
    const [stats] = await store.stats()
    expect(stats).toMatchObject({ tier: 'redis', available: true, hits: 1, misses: 1, errors: 0 })
    expect(stats!.details).toMatchObject({
      breaker: 'closed',
      failureCount: 0,
      keyspaceHits: expect.any(Number),
      keyspaceMisses: expect.any(Number),
      usedMemoryBytes: expect.any(Number),
      usedMemoryHuman: expect.stringMatching(/^[\d.]+[BKMG]$/),
      connectedClients: expect.any(Number),
      pingLatencyMs: expect.any(Number),
    })
    expect(stats!.details!.keyspaceHits as number).toBeGreaterThan(0)
    expect(stats!.details!.keyspaceMisses as number).toBeGreaterThan(0)
  })

  it('health is up with a latency and leaves `optional` to the TieredStore', async () => {
    const store = makeStore()
    const [check] = await store.health()
    expect(check).toMatchObject({ tier: 'redis', status: 'up', latencyMs: expect.any(Number) })
    expect(check).not.toHaveProperty('optional')
  })

  it('exposes keyFor, isAvailable, client and withClient for the TieredStore', async () => {
    const store = makeStore({ prefix: 'pfx:' })
    expect(store.keyFor('a:b')).toBe('pfx:a:b')
    expect(await store.ready()).toBe(true)
    expect(store.isAvailable()).toBe(true)
    await store.set('a:b', entry('v'))
    expect(await store.withClient((c) => c.exists('pfx:a:b'))).toBe(1)
    expect(await store.client.exists('pfx:a:b')).toBe(1)
    await store.delete('a:b')
  })

  it('spreads a pool over several connections', async () => {
    const store = makeStore({ pool: { size: 3 } })
    // ready() resolves with the first connection; on a busy machine the other two may still be connecting.
    await vi.waitFor(async () => {
      expect((await store.stats())[0]!.details).toMatchObject({ readyConnections: 3 })
    })
    await store.set('k', entry('v'))
    const names = new Set<unknown>()
    for (let i = 0; i < 6; i++) names.add(await store.withClient(async (c) => c))
    expect(names.size).toBe(3)
    expect((await store.stats())[0]!.details).toMatchObject({ connections: 3, readyConnections: 3 })
  })

  it('runs over an ioredis client it was given, and leaves it open on close', async () => {
    const client = new Redis(server.url, { enableOfflineQueue: false })
    const store = new RedisStore({ client, prefix: uniquePrefix(), commandTimeout: TEST_COMMAND_TIMEOUT })
    await store.ready()
    await store.set('k', entry('v'))
    expect((await store.get('k'))?.value).toBe('v')
    await store.close()
    expect(await client.ping()).toBe('PONG')
    client.disconnect()
  })

  it('rejects calls after close with E_CLOSED', async () => {
    const store = new RedisStore({ url: server.url, prefix: uniquePrefix() })
    await store.close()
    await store.close()
    await expect(store.get('k')).rejects.toMatchObject({ code: 'E_CLOSED' })
    await expect(store.set('k', entry('v'))).rejects.toMatchObject({ code: 'E_CLOSED' })
  })

  it('isolates a throwing listener and stops delivering after unsubscribe', async () => {
    const store = makeStore({ maxValueBytes: 100 })
    await store.ready()
    await raw.set(store.keyFor('bad'), 'not an entry')
    const seen: string[] = []
    store.subscribe(() => {
      throw new Error('listener bug')
    })
    const off = store.subscribe((e) => seen.push(e.type))
    expect(await store.get('bad')).toBeUndefined()
    off()
    await raw.set(store.keyFor('bad'), 'not an entry')
    expect(await store.get('bad')).toBeUndefined()
    expect(seen).toEqual(['error'])
  })

  it('serves a Cache end to end: getOrSet loads once, then hits from Redis', async () => {
    const store = makeStore()
    const cache = new Cache({ store, defaultTtl: '1m' })
    let loads = 0
    const loader = async () => ++loads
    expect(await cache.getOrSet('thermal:rack:1', loader)).toBe(1)
    expect(await cache.getOrSet('thermal:rack:1', loader)).toBe(1)
    expect(loads).toBe(1)
    const other = new Cache({ store: makeStore({ prefix: store.prefix }) })
    expect(await other.get('thermal:rack:1')).toBe(1)
    await cache.close()
  })
})

describe('RedisStore options', () => {
  it.each([
    [{ url: 'redis://127.0.0.1:1', bogus: 1 }, /unknown option "bogus"/],
    [{}, /exactly one of url, client, cluster, sentinel \(got none\)/],
    [{ url: 'redis://127.0.0.1:1', cluster: { nodes: [] } }, /got url, cluster/],
    [{ url: 'http://x' }, /must start with redis:\/\/ or rediss:\/\//],
    [{ url: 'redis://127.0.0.1:1', prefix: 'has space:' }, /invalid prefix/],
    [{ url: 'redis://127.0.0.1:1', maxValueBytes: -1 }, /maxValueBytes/],
    [{ url: 'redis://127.0.0.1:1', commandTimeout: 'soon' }, /commandTimeout/],
    [{ url: 'redis://127.0.0.1:1', commandTimeout: 0 }, /commandTimeout" must be more than 0/],
    [{ url: 'redis://127.0.0.1:1', pool: { size: 0 } }, /pool.size/],
    [{ url: 'redis://127.0.0.1:1', breaker: { threshold: 3 } }, /unknown option "threshold"/],
    [{ cluster: { nodes: [] } }, /cluster.nodes/],
    [{ sentinel: { sentinels: [], name: 'm' } }, /sentinel/],
  ])('refuses %j with a clear error', (options, message) => {
    expect(() => new RedisStore(options as never)).toThrow(message)
    try {
      new RedisStore(options as never)
    } catch (error) {
      expect(CacheError.is(error)).toBe(true)
    }
  })
})
