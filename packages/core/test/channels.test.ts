import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  Cache,
  CacheError,
  CacheErrorCode,
  type CacheEventMap,
  type ChannelHandler,
  type ChannelTransport,
  LocalChannels,
  validateChannel,
} from '../src/index.ts'
import { decodeChannelBody, encodeChannelBody } from '../src/internal.ts'
import { MapStore } from './fixtures/map-store.ts'

afterEach(() => {
  vi.restoreAllMocks()
})

function memoryCache(): Cache {
  return new Cache({ store: new MapStore() })
}

describe('Cache channels within one process (a store without channels)', () => {
  it('delivers a copy of each message to every handler of its channel, before publish resolves', async () => {
    const cache = memoryCache()
    const a: unknown[] = []
    const b: unknown[] = []
    const other: unknown[] = []
    await cache.subscribe('rack.updated', (message, info) => {
      a.push({ message, info })
    })
    await cache.subscribe('rack.updated', (message) => {
      b.push(message)
    })
    await cache.subscribe('analysis.ready', (message) => {
      other.push(message)
    })
    const sent = { rackId: 7, at: new Date('2024-05-01T10:00:00Z'), tags: ['x'] }
    await cache.publish('rack.updated', sent)
    expect(a).toEqual([{ message: sent, info: { channel: 'rack.updated', from: 'local' } }])
    expect(b).toEqual([sent])
    expect(other).toEqual([])
    // A copy through JSON, Dates revived: a handler cannot change what the publisher holds.
    expect(b[0]).not.toBe(sent)
    expect((b[0] as typeof sent).at).toBeInstanceOf(Date)
  })

  it('a handler that throws or rejects is reported and does not stop the others', async () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const cache = memoryCache()
    const seen: number[] = []
    await cache.subscribe('ch', () => {
      throw new Error('handler bug')
    })
    await cache.subscribe('ch', async () => {
      throw new Error('async handler bug')
    })
    await cache.subscribe<number>('ch', (n) => {
      seen.push(n)
    })
    await expect(cache.publish('ch', 1)).resolves.toBeUndefined()
    await cache.publish('ch', 2)
    await new Promise((resolve) => setImmediate(resolve))
    expect(seen).toEqual([1, 2])
    expect(warning).toHaveBeenCalledWith(
      expect.stringMatching(/channel "ch" listener threw: Error: handler bug/),
      'CacheListenerWarning',
    )
    expect(warning).toHaveBeenCalledWith(
      expect.stringMatching(/channel "ch" listener threw: Error: async handler bug/),
      'CacheListenerWarning',
    )
  })

  it('stops delivering to a handler once its unsubscribe function ran (twice is harmless)', async () => {
    const cache = memoryCache()
    const seen: unknown[] = []
    const off = await cache.subscribe('ch', (m) => {
      seen.push(m)
    })
    await cache.publish('ch', 'one')
    off()
    off()
    await cache.publish('ch', 'two')
    expect(seen).toEqual(['one'])
  })

  it('refuses a channel outside the key alphabet, an unserializable or undefined message, and one over the size limit', async () => {
    const cache = memoryCache()
    await expect(cache.publish('a b', 1)).rejects.toThrow(
      'invalid channel "a b": character " " at 1 is not allowed (allowed: A-Z a-z 0-9 : _ - .)',
    )
    await expect(cache.subscribe('', () => {})).rejects.toMatchObject({ code: CacheErrorCode.INVALID_KEY })
    await expect(cache.publish('ch', undefined)).rejects.toMatchObject({ code: CacheErrorCode.SERIALIZATION })
    await expect(cache.publish('ch', { n: 1n })).rejects.toThrow(/property "n" is a BigInt/)
    await expect(cache.publish('ch', 'x'.repeat(64 * 1024))).rejects.toMatchObject({
      code: CacheErrorCode.VALUE_TOO_LARGE,
    })
    await expect(cache.publish('ch', 'x'.repeat(64 * 1024 - 2))).resolves.toBeUndefined()
    await expect(cache.subscribe('ch', 'nope' as unknown as ChannelHandler)).rejects.toThrow(
      /must be a function/,
    )
  })

  it('rejects with E_CLOSED once the cache is closed', async () => {
    const cache = memoryCache()
    await cache.close()
    await expect(cache.publish('ch', 1)).rejects.toMatchObject({ code: CacheErrorCode.CLOSED })
    await expect(cache.subscribe('ch', () => {})).rejects.toSatisfy((e) => CacheError.is(e, 'E_CLOSED'))
  })
})

describe('Cache channels through the store', () => {
  it('delegates to the store’s channels, and relays their gap and drop events as `channel` events', async () => {
    const calls: unknown[] = []
    const channels: ChannelTransport = {
      publish: async (channel, message) => {
        calls.push(['publish', channel, message])
      },
      subscribe: async (channel) => {
        calls.push(['subscribe', channel])
        return () => {}
      },
    }
    const store = Object.assign(new MapStore(), { channels })
    const cache = new Cache({ store })
    await cache.subscribe('ch', () => {})
    await cache.publish('ch', { a: 1 })
    expect(calls).toEqual([
      ['subscribe', 'ch'],
      ['publish', 'ch', { a: 1 }],
    ])
    const events: CacheEventMap['channel'][] = []
    cache.on('channel', (event) => events.push(event))
    store.raise({ type: 'channel', state: 'gap', channels: ['ch'], reason: 'connection closed' })
    store.raise({ type: 'channel', state: 'dropped', channel: 'ch', reason: 'not JSON', dropped: 1 })
    expect(events).toEqual([
      { state: 'gap', channels: ['ch'], reason: 'connection closed' },
      { state: 'dropped', channel: 'ch', reason: 'not JSON', dropped: 1 },
    ])
  })
})

describe('channel codec and names', () => {
  it('validateChannel names the offending character and the length rule', () => {
    expect(() => validateChannel('ok:name_1.x-y')).not.toThrow()
    expect(() => validateChannel('bad|name')).toThrow('character "|" at 3')
    expect(() => validateChannel('x'.repeat(257))).toThrow('must be 1 to 256')
  })

  it('decodeChannelBody refuses what is not JSON or is over the limit, without throwing', () => {
    expect(decodeChannelBody(encodeChannelBody('c', { a: [1, 'é'] }, 100), 100)).toEqual({
      ok: true,
      message: { a: [1, 'é'] },
    })
    expect(decodeChannelBody('{nope', 100)).toEqual({ ok: false, reason: 'message is not valid JSON' })
    // 40 characters, 120 bytes of UTF-8.
    expect(decodeChannelBody(JSON.stringify('€'.repeat(38)), 100)).toEqual({
      ok: false,
      reason: 'message over 100 bytes',
    })
  })

  it('LocalChannels checks its size option', () => {
    expect(() => new LocalChannels({ maxMessageBytes: 0 })).toThrow(/maxMessageBytes/)
  })
})
