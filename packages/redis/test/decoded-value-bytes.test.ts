import { JsonSerializer, jsonSerializer } from '@strata-cache/core'
import { decodedValueBytes, decodeEntry, encodeEntry } from '@strata-cache/redis/internal'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { entry, TEST_COMMAND_TIMEOUT, uniquePrefix } from './helpers.ts'

const value = { name: 'rack-é', units: [{ u: 0 }], at: new Date(Date.UTC(2026, 0, 1)) }
const valueBytes = Buffer.byteLength(jsonSerializer.serialize(value))

describe('decodedValueBytes', () => {
  it('gives the UTF-8 length of the JSON text a decoded entry came from, unseen by JSON, keys and spreads', () => {
    const decoded = decodeEntry<typeof value>(
      encodeEntry(entry(value), jsonSerializer),
      jsonSerializer,
      'k',
      'redis',
    )
    expect(decodedValueBytes(decoded)).toBe(valueBytes)
    expect(valueBytes).toBeGreaterThan(jsonSerializer.serialize(value).length) // é is 2 bytes
    expect(Object.keys(decoded)).toEqual(['value', 'createdAt', 'expiresAt', 'staleUntil', 'tier'])
    const plain = {
      value,
      createdAt: decoded.createdAt,
      expiresAt: decoded.expiresAt,
      staleUntil: decoded.staleUntil,
    }
    expect(JSON.stringify(decoded)).toBe(JSON.stringify({ ...plain, tier: 'redis' }))
    expect(decoded).toEqual({ ...plain, tier: 'redis' })
    expect(decodedValueBytes({ ...decoded })).toBeUndefined()
    expect(decodedValueBytes(structuredClone(decoded))).toBeUndefined()
    const tagged = decodeEntry(
      encodeEntry(entry(1, { tags: ['a', 'b'] }), jsonSerializer),
      jsonSerializer,
      'k',
      'r',
    )
    expect(tagged.tags).toEqual(['a', 'b'])
    expect(decodedValueBytes(tagged)).toBe(1)
  })

  it('is absent for a serializer other than the stock JSON one, whose values need not be plain JSON', () => {
    const own = { name: 'mine', serialize: JSON.stringify, deserialize: JSON.parse }
    const text = encodeEntry(entry({ n: 1 }), own)
    expect(decodedValueBytes(decodeEntry(text, own, 'k', 'redis'))).toBeUndefined()
    // A separate instance of JsonSerializer is the same serializer (the same format, "json").
    const other = new JsonSerializer()
    const json = encodeEntry(entry({ n: 1 }), jsonSerializer)
    expect(decodedValueBytes(decodeEntry(json, other, 'k', 'redis'))).toBe(Buffer.byteLength('{"n":1}'))
    // An entry in another format is not misread as JSON.
    expect(() => decodeEntry(text, other, 'k', 'redis')).toThrow(/format "mine"/)
  })
})

describe('RedisStore reads carry decodedValueBytes', () => {
  let server: RedisServer
  let store: RedisStore
  beforeAll(async () => {
    server = await startRedisServer()
    store = new RedisStore({
      url: server.url,
      prefix: uniquePrefix('dvb'),
      commandTimeout: TEST_COMMAND_TIMEOUT,
    })
  })
  afterAll(async () => {
    await store?.close()
    await server?.stop()
  })

  it('on get and on every entry of getMany, each read decoding its own object', async () => {
    await store.set('a', entry(value))
    await store.set('b', entry('b'))
    const got = await store.get<typeof value>('a')
    expect(decodedValueBytes(got!)).toBe(valueBytes)
    const many = await store.getMany<unknown>(['a', 'b', 'none', 'a'])
    expect(many.map((e) => (e === undefined ? undefined : decodedValueBytes(e)))).toEqual([
      valueBytes,
      3,
      undefined,
      valueBytes,
    ])
    expect(many[0]!.value).not.toBe(many[3]!.value)
    expect(many[0]!.value).not.toBe(got!.value)
  })
})
