import { CacheErrorCode, type CacheEventMap, type ChannelEvent } from '@strata-cache/core'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { until } from '@strata-cache/test-suite/testing'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { AppChannels } from '../src/app-channels.ts'
import { decodeAppMessage, encodeAppMessage } from '../src/app-message.ts'
import { createCache } from '../src/create-cache.ts'
import { RedisBus } from '../src/redis-bus.ts'
import type { TieredStore } from '../src/tiered-store.ts'

let server: RedisServer
let admin: Redis
const closers: (() => Promise<unknown> | unknown)[] = []
let prefixCounter = 0

beforeAll(async () => {
  server = await startRedisServer({ ownServer: true })
  admin = new Redis(server.url)
})
afterAll(async () => {
  admin?.disconnect()
  await server?.stop()
})
afterEach(async () => {
  vi.restoreAllMocks()
  for (const close of closers.splice(0).reverse()) await close()
})

/** A bus and its channels, as one pod has them. */
async function pod(instanceId: string, prefix: string, maxMessageBytes?: number) {
  const bus = new RedisBus({ url: server.url, prefix, instanceId, heartbeat: '200ms', localDelivery: false })
  const channels = new AppChannels({ bus, ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }) })
  closers.push(
    () => bus.close(),
    () => channels.close(),
  )
  const events: ChannelEvent[] = []
  channels.on((event) => events.push(event))
  expect(await bus.ready()).toBe(true)
  return { bus, channels, events }
}

function inbox<T = unknown>() {
  const received: { message: T; from: string; channel: string }[] = []
  const handler = (message: T, info: { from: string; channel: string }) => {
    received.push({ message, ...info })
  }
  return { received, handler }
}

describe('AppChannels over a RedisBus', () => {
  it('delivers a message to every subscriber, the publisher included, on `<prefix>app:<name>`', async () => {
    const prefix = `ac${++prefixCounter}:`
    const a = await pod('pod-a', prefix)
    const b = await pod('pod-b', prefix)
    const atA = inbox<{ rackId: number; at: Date }>()
    const atB = inbox<{ rackId: number; at: Date }>()
    await a.channels.subscribe('rack.updated', atA.handler)
    await b.channels.subscribe('rack.updated', atB.handler)
    expect(await admin.pubsub('NUMSUB', `${prefix}app:rack.updated`)).toEqual([
      `${prefix}app:rack.updated`,
      2,
    ])

    const at = new Date('2024-05-01T10:00:00Z')
    await a.channels.publish('rack.updated', { rackId: 7, at })
    await until(() => atA.received.length === 1 && atB.received.length === 1)
    for (const box of [atA, atB]) {
      expect(box.received[0]).toEqual({ message: { rackId: 7, at }, from: 'pod-a', channel: 'rack.updated' })
    }
    expect(a.channels.counters()).toMatchObject({ published: 1, received: 1, dropped: 0, channels: 1 })
  })

  it('keeps to its prefix and channel: another app or another channel hears nothing', async () => {
    const a = await pod('a', `ac${++prefixCounter}:`)
    const other = await pod('b', `ac${++prefixCounter}:`)
    const mine = inbox()
    const theirs = inbox()
    const elsewhere = inbox()
    await a.channels.subscribe('events', mine.handler)
    await a.channels.subscribe('other', elsewhere.handler)
    await other.channels.subscribe('events', theirs.handler)
    await a.channels.publish('events', 1)
    await until(() => mine.received.length === 1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(theirs.received).toEqual([])
    expect(elsewhere.received).toEqual([])
  })

  it('drops and counts a malformed, foreign or oversized message, and still delivers the next good one', async () => {
    const prefix = `ac${++prefixCounter}:`
    const a = await pod('a', prefix, 100)
    const box = inbox()
    await a.channels.subscribe('ch', box.handler)
    const channel = `${prefix}app:ch`
    await admin.publish(channel, 'not a message')
    await admin.publish(channel, '1|bad id!|{}')
    await admin.publish(channel, '1|x|{nope')
    await admin.publish(channel, encodeAppMessage('x', JSON.stringify('y'.repeat(200))))
    await admin.publish(channel, encodeAppMessage('x', '{"ok":true}'))
    await until(() => box.received.length === 1)
    expect(box.received[0]!.message).toEqual({ ok: true })
    expect(a.events).toEqual([
      { state: 'dropped', channel: 'ch', reason: 'unknown version "not a message"', dropped: 1 },
      { state: 'dropped', channel: 'ch', reason: 'invalid sender id', dropped: 2 },
      { state: 'dropped', channel: 'ch', reason: 'message is not valid JSON', dropped: 3 },
      { state: 'dropped', channel: 'ch', reason: 'message over 100 bytes', dropped: 4 },
    ])
    expect(a.channels.counters()).toMatchObject({ received: 1, dropped: 4 })
  })

  it('refuses to publish a bad channel name, an unserializable or oversized message; rejects E_STORE_UNAVAILABLE when Redis does not take it', async () => {
    const prefix = `ac${++prefixCounter}:`
    const a = await pod('a', prefix, 1000)
    await expect(a.channels.publish('a|b', 1)).rejects.toMatchObject({ code: CacheErrorCode.INVALID_KEY })
    await expect(a.channels.publish('ch', () => 1)).rejects.toMatchObject({
      code: CacheErrorCode.SERIALIZATION,
    })
    await expect(a.channels.publish('ch', 'x'.repeat(1000))).rejects.toMatchObject({
      code: CacheErrorCode.VALUE_TOO_LARGE,
    })
    // The publisher connection fails fast while it is down (no offline queue): nothing is queued.
    a.bus.client.disconnect()
    await expect(a.channels.publish('ch', 1)).rejects.toMatchObject({
      code: CacheErrorCode.STORE_UNAVAILABLE,
    })
  })

  it('a throwing handler is reported and the other handlers of the channel still run', async () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const a = await pod('a', `ac${++prefixCounter}:`)
    const box = inbox()
    await a.channels.subscribe('ch', () => {
      throw new Error('handler bug')
    })
    await a.channels.subscribe('ch', box.handler)
    await a.channels.publish('ch', 'one')
    await a.channels.publish('ch', 'two')
    await until(() => box.received.length === 2)
    expect(warning).toHaveBeenCalledWith(
      expect.stringMatching(/channel "ch" listener threw: Error: handler bug/),
      'CacheListenerWarning',
    )
  })

  it('unsubscribes from Redis when the last handler of a channel leaves', async () => {
    const prefix = `ac${++prefixCounter}:`
    const a = await pod('a', prefix)
    const first = inbox()
    const second = inbox()
    const off1 = await a.channels.subscribe('ch', first.handler)
    const off2 = await a.channels.subscribe('ch', second.handler)
    off1()
    await a.channels.publish('ch', 1)
    await until(() => second.received.length === 1)
    expect(first.received).toEqual([])
    off2()
    await until(async () => (await admin.pubsub('NUMSUB', `${prefix}app:ch`))[1] === 0)
    // The bus keeps its own subscription.
    expect((await admin.pubsub('NUMSUB', `${prefix}bus`))[1]).toBe(1)
  })

  it('reports a gap once subscribed again after the subscriber connection was killed, then delivers again', async () => {
    const prefix = `ac${++prefixCounter}:`
    const a = await pod('a', prefix)
    const b = await pod('b', prefix)
    const box = inbox()
    await b.channels.subscribe('ch', box.handler)
    await b.channels.subscribe('other', () => {})
    await admin.client('KILL', 'TYPE', 'pubsub')
    await until(() => b.events.some((e) => e.state === 'gap'), 5000)
    expect(b.events.filter((e) => e.state === 'gap')).toEqual([
      { state: 'gap', channels: ['ch', 'other'], reason: 'connection closed' },
    ])
    // a had no channel: nothing to report.
    expect(a.events).toEqual([])
    await a.channels.publish('ch', 'after')
    await until(() => box.received.length === 1)
    expect(b.channels.counters().gaps).toBe(1)
  })

  it('at start, subscribe waits for the bus: once it resolves the subscription is live, and no gap is reported', async () => {
    const prefix = `ac${++prefixCounter}:`
    const bus = new RedisBus({ url: server.url, prefix, instanceId: 'starting', heartbeat: '200ms' })
    const channels = new AppChannels({ bus })
    closers.push(
      () => bus.close(),
      () => channels.close(),
    )
    const events: ChannelEvent[] = []
    channels.on((event) => events.push(event))
    const box = inbox()
    await channels.subscribe('ch', box.handler) // before the first connection
    expect(await admin.pubsub('NUMSUB', `${prefix}app:ch`)).toEqual([`${prefix}app:ch`, 1])
    await admin.publish(`${prefix}app:ch`, encodeAppMessage('x', '1'))
    await until(() => box.received.length === 1)
    expect(events).toEqual([])
  })

  it('subscribed while the bus is down: resolves after subscribeWait, subscribes when it is back, and reports the gap', async () => {
    const prefix = `ac${++prefixCounter}:`
    const bus = new RedisBus({ url: server.url, prefix, instanceId: 'late', heartbeat: '200ms' })
    const channels = new AppChannels({ bus, subscribeWait: 0 })
    closers.push(
      () => bus.close(),
      () => channels.close(),
    )
    const events: ChannelEvent[] = []
    channels.on((event) => events.push(event))
    const box = inbox()
    await channels.subscribe('ch', box.handler) // before the first connection, without waiting
    await until(() => events.length === 1)
    expect(events[0]).toMatchObject({ state: 'gap', channels: ['ch'] })
    await channels.publish('ch', 'hello')
    await until(() => box.received.length === 1)
  })

  it('checks its options', () => {
    expect(() => new AppChannels({} as never)).toThrow('option "bus" is required')
    const bus = new RedisBus({ url: server.url, prefix: 'opt:' })
    closers.push(() => bus.close())
    expect(() => new AppChannels({ bus, maxMessageBytes: -1 })).toThrow(/maxMessageBytes/)
    expect(() => new AppChannels({ bus, nope: 1 } as never)).toThrow(/unknown option "nope"/)
  })
})

describe('AppChannels with a secret', () => {
  const SECRET = 'app-channels-secret-0123456789'

  async function signedPod(instanceId: string, prefix: string, secret: string | readonly string[] = SECRET) {
    const bus = new RedisBus({
      url: server.url,
      prefix,
      instanceId,
      heartbeat: '200ms',
      localDelivery: false,
    })
    const channels = new AppChannels({ bus, secret })
    closers.push(
      () => bus.close(),
      () => channels.close(),
    )
    const events: ChannelEvent[] = []
    channels.on((event) => events.push(event))
    expect(await bus.ready()).toBe(true)
    return { bus, channels, events }
  }

  it('signs every message; unsigned, forged, replayed or foreign-secret messages are dropped and counted', async () => {
    const prefix = `as${++prefixCounter}:`
    const a = await signedPod('a', prefix)
    const b = await signedPod('b', prefix, ['another-secret-0123456789', SECRET]) // rotating: verifies either
    const stranger = await signedPod('x', prefix, 'not-the-secret-0123456789')
    const raw: string[] = []
    const spy = new Redis(server.url)
    closers.push(() => spy.disconnect())
    spy.on('message', (_channel: string, message: string) => raw.push(message))
    await spy.subscribe(`${prefix}app:ch`, `${prefix}app:other`)
    const box = inbox()
    await b.channels.subscribe('ch', box.handler)
    await b.channels.subscribe('other', () => {})
    await stranger.channels.subscribe('ch', () => {})

    await a.channels.publish('ch', { n: 1 })
    await until(() => box.received.length === 1 && raw.length === 1)
    expect(raw[0]).toMatch(/^s1\|[A-Za-z0-9_-]{22}\|1\|a\|\{"n":1\}$/)
    expect(box.received[0]).toMatchObject({ message: { n: 1 }, from: 'a' })

    // Unsigned; the signed message replayed on another channel; a forged signature.
    await admin.publish(`${prefix}app:ch`, encodeAppMessage('a', '{"n":2}'))
    await admin.publish(`${prefix}app:other`, raw[0]!)
    await admin.publish(`${prefix}app:ch`, raw[0]!.replace(/^s1\|.{4}/, 's1|AAAA'))
    await until(() => b.events.length === 3)
    expect(b.events.map((e) => [e.state, (e as { channel?: string }).channel, e.reason])).toEqual([
      ['dropped', 'ch', 'unsigned message'],
      ['dropped', 'other', 'wrong signature message'],
      ['dropped', 'ch', 'wrong signature message'],
    ])
    expect(box.received).toHaveLength(1)
    // A pod with another secret takes nothing from the others.
    await until(() => stranger.channels.counters().dropped === 3)
    expect(stranger.channels.counters().received).toBe(0)
  })

  it('reports at most ten refused messages a second, and counts them all', async () => {
    const prefix = `as${++prefixCounter}:`
    const a = await signedPod('a', prefix)
    await a.channels.subscribe('ch', () => {})
    await Promise.all(Array.from({ length: 30 }, () => admin.publish(`${prefix}app:ch`, 'junk')))
    await until(() => a.channels.counters().dropped === 30)
    expect(a.events.length).toBeGreaterThanOrEqual(10)
    expect(a.events.length).toBeLessThanOrEqual(20) // two seconds at most
  })

  it('createCache signs with the bus secret; a short secret is refused', async () => {
    const prefix = `as${++prefixCounter}:`
    const cache = createCache({ redisUrl: server.url, prefix, bus: { instanceId: 'signed', secret: SECRET } })
    closers.push(() => cache.close())
    const peer = await signedPod('peer', prefix)
    const box = inbox()
    await peer.channels.subscribe('ch', box.handler)
    expect(await (cache.store as TieredStore).ready(5000)).toBe(true)
    await cache.publish('ch', 'hello')
    await until(() => box.received.length === 1)
    expect(box.received[0]).toMatchObject({ message: 'hello', from: 'signed' })
    const bus = new RedisBus({ url: server.url, prefix: 'short:' })
    closers.push(() => bus.close())
    expect(() => new AppChannels({ bus, secret: 'short' })).toThrow(/at least 16 characters/)
  })
})

describe('createCache: publish and subscribe on the Cache', () => {
  it('carries messages between caches on the same prefix, and relays gaps as `channel` events', async () => {
    const prefix = `cc${++prefixCounter}:`
    const make = (instanceId: string) => {
      const cache = createCache({ redisUrl: server.url, prefix, bus: { instanceId, heartbeat: '200ms' } })
      closers.push(() => cache.close())
      return cache
    }
    const one = make('one')
    const two = make('two')
    const events: CacheEventMap['channel'][] = []
    two.on('channel', (event) => events.push(event))
    for (const cache of [one, two]) expect(await (cache.store as TieredStore).ready(5000)).toBe(true)
    const box = inbox<{ n: number }>()
    await two.subscribe('jobs', box.handler)
    await one.publish('jobs', { n: 1 })
    await until(() => box.received.length === 1)
    expect(box.received[0]).toEqual({ message: { n: 1 }, from: 'one', channel: 'jobs' })

    await admin.client('KILL', 'TYPE', 'pubsub')
    await until(() => events.length === 1, 5000)
    expect(events[0]).toEqual({ state: 'gap', channels: ['jobs'], reason: 'connection closed' })
  })

  it('without Redis, delivers within the process and honours `channels.maxMessageBytes`', async () => {
    const cache = createCache({ channels: { maxMessageBytes: 10 } })
    closers.push(() => cache.close())
    const box = inbox()
    await cache.subscribe('ch', box.handler)
    await cache.publish('ch', 'short')
    expect(box.received).toEqual([{ message: 'short', from: 'local', channel: 'ch' }])
    await expect(cache.publish('ch', 'much too long')).rejects.toMatchObject({
      code: CacheErrorCode.VALUE_TOO_LARGE,
    })
  })
})

describe('application message wire format', () => {
  it('is `1|<sender>|<json>`, and the body may hold `|`', () => {
    expect(encodeAppMessage('pod-1', '{"a":"x|y"}')).toBe('1|pod-1|{"a":"x|y"}')
    expect(decodeAppMessage('1|pod-1|{"a":"x|y"}', 100)).toEqual({
      ok: true,
      from: 'pod-1',
      message: { a: 'x|y' },
    })
    expect(decodeAppMessage('2|pod-1|{}', 100)).toEqual({ ok: false, reason: 'unknown version "2"' })
    expect(decodeAppMessage('1|pod-1', 100)).toEqual({ ok: false, reason: 'expected 3 fields' })
    expect(decodeAppMessage(Buffer.from('x'), 100)).toEqual({ ok: false, reason: 'not a string' })
  })
})
