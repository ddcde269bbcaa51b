import { Cache, CacheError, type StoreEvent } from '@strata-cache/core'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { entry, redisCli, TEST_COMMAND_TIMEOUT, uniquePrefix } from './helpers.ts'

let server: RedisServer
let store: RedisStore
const events: StoreEvent[] = []

beforeAll(async () => {
  server = await startRedisServer()
  store = new RedisStore({
    url: server.url,
    prefix: uniquePrefix('bad'),
    commandTimeout: TEST_COMMAND_TIMEOUT,
  })
  store.subscribe((e) => events.push(e))
})

afterAll(async () => {
  await store?.close()
  await server?.stop()
})

const corruptValues: [string, string][] = [
  ['plain text', 'hello world'],
  ['JSON that is not an entry', '{"value":1}'],
  ['a header with missing fields', 'S1\t1\t2\n"v"'],
  ['a header with non-numeric times', 'S1\tx\ty\tz\t\n"v"'],
  ['staleUntil before expiresAt', 'S1\t1\t200\t100\t\n"v"'],
  ['a valid header over an unreadable value', 'S1\t1\t9999999999999\t9999999999999\t\n{not json'],
  ['an empty string', ''],
]

describe('corrupt values under our prefix (written by hand with redis-cli)', () => {
  it.each(corruptValues)('%s: a miss, deleted, reported as E_CORRUPT_ENTRY', async (_label, value) => {
    const key = `hand:${events.length}`
    await redisCli(server.port, ['SET', store.keyFor(key), value])
    const before = events.length
    expect(await store.get(key)).toBeUndefined()
    expect(await redisCli(server.port, ['EXISTS', store.keyFor(key)])).toBe('0')
    const reported = events.slice(before)
    expect(reported).toHaveLength(1)
    expect(reported[0]).toMatchObject({ type: 'error', operation: 'get', tier: 'redis', key })
    const error = (reported[0] as { error: unknown }).error
    expect(CacheError.is(error, 'E_CORRUPT_ENTRY')).toBe(true)
    expect(String((error as Error).message)).toContain(`"${key}"`)
  })

  it('a key of another Redis type (a list) is a corrupt entry too, not a server failure', async () => {
    await redisCli(server.port, ['RPUSH', store.keyFor('list'), 'a', 'b'])
    const before = events.length
    expect(await store.get('list')).toBeUndefined()
    expect(await redisCli(server.port, ['EXISTS', store.keyFor('list')])).toBe('0')
    expect(events.slice(before)).toMatchObject([{ type: 'error', error: { code: 'E_CORRUPT_ENTRY' } }])
    expect(store.breakerState).toBe('closed')
    expect((await store.stats())[0]!.details).toMatchObject({ failureCount: 0 })
  })

  it('getMany drops the corrupt one and returns the rest', async () => {
    await store.set('good', entry('fine'))
    await redisCli(server.port, ['SET', store.keyFor('rotten'), 'garbage'])
    const got = await store.getMany(['good', 'rotten', 'absent'])
    expect(got.map((e) => e?.value)).toEqual(['fine', undefined, undefined])
    expect(await redisCli(server.port, ['EXISTS', store.keyFor('rotten')])).toBe('0')
  })

  it('deleteTags removes a corrupt value found under a tagged key', async () => {
    await store.set('tagged', entry('v', { tags: ['t'] }))
    await redisCli(server.port, ['SET', store.keyFor('tagged'), 'garbage'])
    expect(await store.deleteTags(['t'])).toBe(1)
  })

  it('through a Cache: a miss that the loader fills, counted as an error, never thrown', async () => {
    const cache = new Cache({ store })
    const codes: string[] = []
    cache.on('error', (e) => codes.push((e.error as CacheError).code))
    await redisCli(server.port, ['SET', store.keyFor('thermal:rack:9'), '\u0001\u0002binary'])
    expect(await cache.get('thermal:rack:9')).toBeUndefined()
    await redisCli(server.port, ['SET', store.keyFor('thermal:rack:9'), '{oops'])
    expect(await cache.getOrSet('thermal:rack:9', () => 'recomputed')).toBe('recomputed')
    expect(await cache.get('thermal:rack:9')).toBe('recomputed')
    expect(codes).toEqual(['E_CORRUPT_ENTRY', 'E_CORRUPT_ENTRY'])
    expect((await cache.stats()).errors).toBe(2)
    await cache.close()
  })
})
