import { CacheError, jsonSerializer, MsgpackSerializer, structuredSerializer } from '@strata-cache/core'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore, type RedisStoreOptions } from '../src/index.ts'
import { entry, recordEvents, TEST_COMMAND_TIMEOUT, uniquePrefix } from './helpers.ts'

let server: RedisServer
let raw: Redis
const stores: RedisStore[] = []

beforeAll(async () => {
  server = await startRedisServer()
  raw = new Redis(server.url)
})
afterAll(async () => {
  raw?.disconnect()
  await server?.stop()
})
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()))
})

function makeStore(options: Partial<RedisStoreOptions> = {}): RedisStore {
  const store = new RedisStore({
    url: server.url,
    prefix: uniquePrefix('fmt'),
    commandTimeout: TEST_COMMAND_TIMEOUT,
    ...options,
  })
  stores.push(store)
  return store
}

const rich = () => ({
  at: new Date('2024-05-06T07:08:09.010Z'),
  racks: new Map([['r1', { watts: 100n }]]),
  seen: new Set(['a']),
  bytes: Buffer.from([1, 2, 3]),
  gap: [1, undefined, Number.NaN, Number.POSITIVE_INFINITY],
})

async function formatMisses(store: RedisStore): Promise<number> {
  return (await store.stats())[0]!.details!.formatMisses as number
}

describe('entry formats', () => {
  it('reads an entry an older version wrote (S1 header, JSON), and still writes JSON as S1', async () => {
    const store = makeStore()
    const now = Date.now()
    await raw.set(
      store.keyFor('old'),
      `S1\t${now}\t${now + 60_000}\t${now + 60_000}\tt1\n{"n":1}`,
      'PX',
      60_000,
    )
    expect(await store.get('old')).toMatchObject({ value: { n: 1 }, tags: ['t1'] })
    await store.set('new', entry({ n: 2 }))
    expect(await raw.get(store.keyFor('new'))).toMatch(/^S1\t\d+\t\d+\t\d+\t\n\{"n":2\}$/)
  })

  it('structured and msgpack round-trip Date, Map, Set, BigInt, Buffer, undefined, NaN, Infinity through Redis', async () => {
    for (const serializer of [structuredSerializer, new MsgpackSerializer()]) {
      const store = makeStore({ serializer })
      await store.set('rich', entry(rich(), { tags: ['x'] }))
      const got = await store.get<ReturnType<typeof rich>>('rich')
      expect(got?.value, serializer.name).toEqual(rich())
      expect(got?.value.racks).toBeInstanceOf(Map)
      expect(got?.tags).toEqual(['x'])
      const stored = (await raw.getBuffer(store.keyFor('rich')))!
      expect(stored.subarray(0, 100).toString('latin1')).toContain(`\tx\t${serializer.name}\t\n`)
      // Tags work on the new header too.
      expect(await store.deleteTags(['x'])).toBe(1)
    }
  })

  it('compresses values over the threshold on the way to Redis, and any pod reads them', async () => {
    const compressing = makeStore({ compression: { threshold: 1024, level: 6 } })
    const plain = makeStore({ prefix: compressing.prefix })
    const big = { rows: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `device-${i}` })) }
    await compressing.set('big', entry(big))
    await compressing.set('small', entry({ n: 1 }))
    const stored = (await raw.getBuffer(compressing.keyFor('big')))!
    expect(stored.subarray(0, 80).toString('latin1')).toMatch(/^S2\t[^\n]*\tjson\tdeflate\n/)
    expect(stored.length).toBeLessThan(JSON.stringify(big).length / 3)
    expect(await raw.get(compressing.keyFor('small'))).toMatch(/^S1\t/) // under the threshold: as before
    expect((await plain.get('big'))?.value).toEqual(big)
    expect((await compressing.get('big'))?.value).toEqual(big)
    // maxValueBytes applies to what Redis would hold.
    const tight = makeStore({ compression: true, maxValueBytes: 2000 })
    await expect(tight.set('big', entry(big))).resolves.toBeUndefined()
    const loose = makeStore({ maxValueBytes: 2000 })
    await expect(loose.set('big', entry(big))).rejects.toSatisfy((e) => CacheError.is(e, 'E_VALUE_TOO_LARGE'))
  })

  it('an entry in another format is a miss, counted, neither an error nor deleted', async () => {
    const json = makeStore()
    const structured = makeStore({ prefix: json.prefix, serializer: structuredSerializer })
    const events = recordEvents(json)
    await structured.set('k', entry({ at: new Date(0) }))
    expect(await json.get('k')).toBeUndefined()
    expect(await json.getMany(['k', 'k'])).toEqual([undefined, undefined])
    expect(await formatMisses(json)).toBe(3)
    expect(events.filter((e) => e.type === 'error')).toEqual([])
    expect(await raw.exists(json.keyFor('k'))).toBe(1)
    expect((await structured.get('k'))?.value).toEqual({ at: new Date(0) })
    // A corrupt entry is still corrupt: reported and deleted.
    await raw.set(json.keyFor('bad'), 'S2\tx\n', 'PX', 60_000)
    expect(await json.get('bad')).toBeUndefined()
    expect(events.some((e) => e.type === 'error')).toBe(true)
    expect(await raw.exists(json.keyFor('bad'))).toBe(0)
  })

  it('refuses bad format options before connecting', () => {
    const bad: Partial<RedisStoreOptions>[] = [
      { compression: { level: 0 } },
      { compression: { threshold: -1 } },
      { compression: { other: 1 } as never },
      {
        serializer: {
          ...jsonSerializer,
          name: 'a b',
          serialize: (v: unknown) => String(v),
          deserialize: (d: string) => d,
        },
      },
    ]
    for (const options of bad) {
      expect(() => new RedisStore({ url: server.url, ...options })).toThrow(CacheError)
    }
  })
})
