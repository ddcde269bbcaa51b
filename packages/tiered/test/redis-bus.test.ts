import { CacheError, CacheErrorCode } from '@strata-cache/core'
import type { WriteConnection } from '@strata-cache/redis'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { until } from '@strata-cache/test-suite/testing'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { BusEvent } from '../src/invalidation.ts'
import { RedisBus } from '../src/redis-bus.ts'

let server: RedisServer
let admin: Redis
const open: RedisBus[] = []
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
  await Promise.all(open.splice(0).map((bus) => bus.close()))
})

function bus(
  options: Partial<ConstructorParameters<typeof RedisBus>[0]> = {},
  prefix = `t${++prefixCounter}:`,
): RedisBus {
  const created = new RedisBus({
    url: server.url,
    prefix,
    heartbeat: '200ms',
    localDelivery: false,
    ...options,
  })
  open.push(created)
  return created
}

function record(target: RedisBus): BusEvent[] {
  const events: BusEvent[] = []
  target.subscribe((event) => events.push(event))
  return events
}

describe('RedisBus', () => {
  it('delivers invalidations to the other instances, not back to the sender', async () => {
    const prefix = `t${++prefixCounter}:`
    const a = bus({ instanceId: 'a' }, prefix)
    const b = bus({ instanceId: 'b' }, prefix)
    const fromA = record(a)
    const fromB = record(b)
    expect(await a.ready()).toBe(true)
    expect(await b.ready()).toBe(true)
    await a.publish({ kind: 'key', keys: ['user:1', 'user:2'] })
    await a.publish({ kind: 'tags', tags: ['t1'] })
    await until(() => fromB.filter((e) => e.type === 'invalidation').length === 2)
    expect(fromB.filter((e) => e.type === 'invalidation')).toEqual([
      { type: 'invalidation', from: 'a', seq: 1, invalidation: { kind: 'key', keys: ['user:1', 'user:2'] } },
      { type: 'invalidation', from: 'a', seq: 2, invalidation: { kind: 'tags', tags: ['t1'] } },
    ])
    expect(b.counters()).toMatchObject({ sent: 0, received: 2, gaps: 0, dropped: 0 })
    // Barrier: b's marker, published after Redis acknowledged a's messages, reaches a behind their echo.
    await b.publish({ kind: 'key', keys: ['marker'] })
    await until(() => fromA.some((e) => e.type === 'invalidation'))
    expect(fromA.filter((e) => e.type === 'invalidation')).toMatchObject([
      { from: 'b', invalidation: { kind: 'key', keys: ['marker'] } },
    ])
    expect(a.counters()).toMatchObject({ sent: 2, received: 1 })
  })

  it('gathers the key invalidations of one tick into few messages, keys in order, with no gap', async () => {
    const prefix = `t${++prefixCounter}:`
    const a = bus({ instanceId: 'a' }, prefix)
    const b = bus({ instanceId: 'b' }, prefix)
    const atB = record(b)
    await Promise.all([a.ready(), b.ready()])
    const sent = Array.from({ length: 200 }, (_, i) => a.publish({ kind: 'key', keys: [`user:${i}`] }))
    await Promise.all(sent)
    await until(() => b.counters().received === 2)
    const received = atB.flatMap((e) =>
      e.type === 'invalidation' && e.invalidation.kind === 'key' ? e.invalidation.keys : [],
    )
    expect(received).toEqual(Array.from({ length: 200 }, (_, i) => `user:${i}`))
    // MAX_KEYS_PER_MESSAGE (128) keys to a message.
    expect(b.counters()).toMatchObject({ received: 2, gaps: 0 })
    expect(a.counters()).toMatchObject({ sent: 2 })
  })

  it('judges order per stream: interleaved streams of one sender are no gap, a hole in one stream is', async () => {
    const prefix = `t${++prefixCounter}:`
    const b = bus({ instanceId: 'b' }, prefix)
    const atB = record(b)
    await b.ready()
    const channel = `${prefix}bus`
    for (const message of ['1|a|1|k|x', '1|a~0|1|k|y', '1|a~1|1|k|z', '1|a|2|k|x', '1|a~0|2|k|y']) {
      await admin.publish(channel, message)
    }
    await until(() => b.counters().received === 5)
    expect(b.counters().gaps).toBe(0)
    expect(atB.filter((e) => e.type === 'invalidation').map((e) => 'from' in e && e.from)).toEqual([
      'a',
      'a',
      'a',
      'a',
      'a',
    ])
    await admin.publish(channel, '1|a~0|4|k|y') // 3 never came on stream 0
    await until(() => b.counters().gaps === 1)
    expect(atB.find((e) => e.type === 'state' && e.state === 'gap')).toMatchObject({
      reason: 'instance a~0: expected sequence 3, got 4',
    })
  })

  it('follows a write with a message on the store connection, and publishes it itself when that failed', async () => {
    const prefix = `t${++prefixCounter}:`
    const a = bus({ instanceId: 'a' }, prefix)
    const b = bus({ instanceId: 'b' }, prefix)
    const atA = record(a)
    const atB = record(b)
    await Promise.all([a.ready(), b.ready()])
    // A store connection as RedisStore.setFollowedBy hands it over: the follow-up PUBLISHes on it.
    let channel: string | undefined
    const connection = {
      id: 0,
      client: {
        publish: (to: string, message: string) => {
          channel = to
          return admin.publish(to, message)
        },
      },
    } as unknown as WriteConnection
    const sent = a.followWrite({ kind: 'key', keys: ['user:1'] })
    await sent.followUp(connection)
    expect(channel).toBe(`${prefix}bus`)
    await sent.settled(true)
    const failed = a.followWrite({ kind: 'key', keys: ['user:2'] })
    const refused = { id: 0, client: { publish: () => Promise.reject(new Error('down')) } }
    // Its sequence number is taken, never published: stream 0 has a hole now.
    await expect(failed.followUp(refused as unknown as WriteConnection)).rejects.toThrow('down')
    await failed.settled(false)
    await until(() => atB.filter((e) => e.type === 'invalidation').length === 2)
    expect(
      atB.flatMap((e) =>
        e.type === 'invalidation' && e.invalidation.kind === 'key' ? e.invalidation.keys : [],
      ),
    ).toEqual(['user:1', 'user:2'])
    expect(a.counters()).toMatchObject({ sent: 2 })
    // Barrier: a marker b sends after them reaches a behind anything of a's own Redis echoed.
    await b.publish({ kind: 'key', keys: ['marker'] })
    await until(() => atA.some((e) => e.type === 'invalidation'))
    expect(atA.filter((e) => e.type === 'invalidation')).toMatchObject([
      { from: 'b', invalidation: { kind: 'key', keys: ['marker'] } },
    ]) // none of its own, on a stream or not
  })

  it("gathers one tick's follow-ups per store connection into one message behind the writes", async () => {
    const prefix = `t${++prefixCounter}:`
    const a = bus({ instanceId: 'a' }, prefix)
    const b = bus({ instanceId: 'b' }, prefix)
    const atB = record(b)
    await Promise.all([a.ready(), b.ready()])
    const published: string[] = []
    const on = (id: number) =>
      ({
        id,
        client: {
          publish: (to: string, message: string) => {
            published.push(message)
            return admin.publish(to, message)
          },
        },
      }) as unknown as WriteConnection
    const [zero, one] = [on(0), on(1)]
    const notices = ['user:1', 'user:2', 'user:1', 'user:3'].map((key) =>
      a.followWrite({ kind: 'key', keys: [key] }),
    )
    const acks = notices.map((notice, i) => notice.followUp(i === 3 ? one : zero))
    // Nothing leaves before the tick's writes were all issued.
    expect(published).toEqual([])
    await Promise.all(acks)
    expect(published).toEqual(['1|a~0|1|k|user:1,user:2', '1|a~1|1|k|user:3'])
    // The next tick's follow-up is the next message of the stream.
    await a.followWrite({ kind: 'key', keys: ['user:4'] }).followUp(zero)
    expect(published[2]).toBe('1|a~0|2|k|user:4')
    await until(() => b.counters().received === 3)
    expect(b.counters()).toMatchObject({ gaps: 0 })
    expect(
      atB.filter((e) => e.type === 'invalidation').map((e) => 'invalidation' in e && e.invalidation),
    ).toEqual([
      { kind: 'key', keys: ['user:1', 'user:2'] },
      { kind: 'key', keys: ['user:3'] },
      { kind: 'key', keys: ['user:4'] },
    ])
    expect(a.counters()).toMatchObject({ sent: 3 })
  })

  it("closes a tick's batch once the writes it follows reach 8 KiB: their callers wait for less", async () => {
    const prefix = `t${++prefixCounter}:`
    const a = bus({ instanceId: 'a' }, prefix)
    await a.ready()
    const published: string[] = []
    const zero = {
      id: 0,
      client: {
        publish: (to: string, message: string) => {
          published.push(message)
          return admin.publish(to, message)
        },
      },
    } as unknown as WriteConnection
    // Five writes of 3 KiB in one tick: the third reaches 9 KiB and closes the first batch.
    const acks = [1, 2, 3, 4, 5].map((i) =>
      a.followWrite({ kind: 'key', keys: [`user:${i}`] }).followUp(zero, 3 * 1024),
    )
    await Promise.all(acks)
    expect(published).toEqual(['1|a~0|1|k|user:1,user:2,user:3', '1|a~0|2|k|user:4,user:5'])
  })

  it('skips only its own messages, not those of an instance whose id starts with its own', async () => {
    const prefix = `t${++prefixCounter}:`
    const short = bus({ instanceId: 'pod-1' }, prefix)
    const long = bus({ instanceId: 'pod-10' }, prefix)
    const atShort = record(short)
    const atLong = record(long)
    await Promise.all([short.ready(), long.ready()])
    await long.publish({ kind: 'key', keys: ['user:10'] })
    await short.publish({ kind: 'key', keys: ['user:1'] })
    // Barrier: a third instance's marker reaches both behind everything published before it.
    const marker = bus({ instanceId: 'marker' }, prefix)
    await marker.ready()
    await marker.publish({ kind: 'key', keys: ['marker'] })
    const from = (events: BusEvent[]) =>
      events.filter((e) => e.type === 'invalidation').map((e) => 'from' in e && e.from)
    await until(() => from(atShort).includes('marker') && from(atLong).includes('marker'))
    expect(from(atShort)).toEqual(['pod-10', 'marker'])
    expect(from(atLong)).toEqual(['pod-1', 'marker'])
    expect(short.counters()).toMatchObject({ sent: 1, received: 2, dropped: 0 })
  })

  it('hands invalidations to buses of the same process synchronously, and ignores their copy from Redis', async () => {
    const prefix = `t${++prefixCounter}:`
    const a = bus({ instanceId: 'a', localDelivery: true }, prefix)
    const b = bus({ instanceId: 'b', localDelivery: true }, prefix)
    await Promise.all([a.ready(), b.ready()])
    const events = record(b)
    const publishing = a.publish({ kind: 'key', keys: ['k'] })
    expect(events).toEqual([
      { type: 'invalidation', from: 'a', seq: 0, invalidation: { kind: 'key', keys: ['k'] } },
    ])
    await publishing
    // Barrier: an instance of another process (no local delivery) publishes after a's copy reached Redis.
    const remote = bus({ instanceId: 'remote' }, prefix)
    await remote.ready()
    await remote.publish({ kind: 'key', keys: ['marker'] })
    await until(() => events.length >= 2)
    expect(events).toEqual([
      { type: 'invalidation', from: 'a', seq: 0, invalidation: { kind: 'key', keys: ['k'] } },
      { type: 'invalidation', from: 'remote', seq: 1, invalidation: { kind: 'key', keys: ['marker'] } },
    ])
    expect(b.counters()).toMatchObject({ received: 2, gaps: 0 })
  })

  it('keeps channels apart by prefix', async () => {
    const a = bus({}, 'app1:')
    const b = bus({}, 'app2:')
    const events = record(b)
    await Promise.all([a.ready(), b.ready()])
    await a.publish({ kind: 'clear' })
    // Barrier: a marker on b's own channel, published after a's clear was acknowledged.
    const marker = bus({}, 'app2:')
    await marker.ready()
    await marker.publish({ kind: 'key', keys: ['marker'] })
    await until(() => events.some((e) => e.type === 'invalidation'))
    expect(events.filter((e) => e.type === 'invalidation')).toMatchObject([
      { invalidation: { kind: 'key', keys: ['marker'] } },
    ])
    expect(a.channel).toBe('app1:bus')
  })

  it('drops and counts garbage published by hand, and keeps working', async () => {
    const b = bus()
    const events = record(b)
    await b.ready()
    for (const garbage of [
      '',
      'hello',
      '2|x|1|k|a',
      '1|x|1|k|bad key',
      '1|x|1|q|a',
      '\u0000\u0001',
      '1|x|0|c|',
    ]) {
      await admin.publish(b.channel, garbage)
    }
    await admin.publish(b.channel, '1|x|1|k|still:works')
    await until(() => events.some((e) => e.type === 'invalidation'))
    const dropped = events.filter((e) => e.type === 'state' && e.state === 'dropped')
    expect(dropped).toHaveLength(7)
    expect(dropped.at(-1)).toMatchObject({ dropped: 7 })
    expect(b.counters()).toMatchObject({ dropped: 7, received: 1 })
    expect(b.isConnected()).toBe(true)
  })

  it('reports a gap in a sender sequence', async () => {
    const b = bus()
    const events = record(b)
    await b.ready()
    await admin.publish(b.channel, '1|x|1|k|a')
    await admin.publish(b.channel, '1|x|2|k|a')
    await admin.publish(b.channel, '1|x|4|k|a') // 3 was lost
    await admin.publish(b.channel, '1|y|9|k|a') // first message from y: no baseline, no gap
    await until(() => b.counters().received === 4)
    expect(events.filter((e) => e.type === 'state' && e.state === 'gap')).toEqual([
      { type: 'state', state: 'gap', reason: 'instance x: expected sequence 3, got 4' },
    ])
    expect(b.counters().gaps).toBe(1)
  })

  it('reports a killed subscriber connection, reconnects and resubscribes', async () => {
    const prefix = `t${++prefixCounter}:`
    const a = bus({ instanceId: 'a' }, prefix)
    const b = bus({ instanceId: 'b' }, prefix)
    await Promise.all([a.ready(), b.ready()])
    const events = record(b)
    await admin.client('KILL', 'TYPE', 'pubsub')
    await until(() => events.filter((e) => e.type === 'state' && e.state === 'connected').length === 1)
    expect(events.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state)).toEqual([
      'disconnected',
      'connected',
    ])
    expect(b.counters().reconnects).toBe(1)
    await a.publish({ kind: 'key', keys: ['after'] })
    await until(() => events.some((e) => e.type === 'invalidation'))
  })

  it('queues invalidations while Redis hangs and publishes them when it is back, latest wins', async () => {
    const own = await startRedisServer({ ownServer: true })
    // No heartbeat on the receiver: its subscription survives the pause, so what it receives shows what was sent.
    const a = new RedisBus({ url: own.url, instanceId: 'a', heartbeat: 0, localDelivery: false })
    const b = new RedisBus({ url: own.url, instanceId: 'b', heartbeat: 0, localDelivery: false })
    open.push(a, b)
    try {
      await Promise.all([a.ready(), b.ready()])
      const events = record(b)
      own.pause()
      await a.publish({ kind: 'key', keys: ['k1'] }) // times out: queued (Redis may still deliver this copy on resume)
      await a.publish({ kind: 'key', keys: ['k2'] })
      await a.publish({ kind: 'key', keys: ['k1'] }) // same invalidation again: one copy, moved last
      expect(a.counters().pending).toBe(2)
      own.resume()
      await until(() => a.counters().pending === 0, 10_000)
      // Barrier: a's marker leaves on the same connection after everything it had queued.
      await a.publish({ kind: 'key', keys: ['marker'] })
      const isMarker = (e: BusEvent) =>
        e.type === 'invalidation' && e.invalidation.kind === 'key' && e.invalidation.keys[0] === 'marker'
      await until(() => events.some(isMarker), 5000)
      const received = events
        .slice(0, events.findIndex(isMarker))
        .map((e) => (e as { invalidation: unknown }).invalidation)
      expect(received.slice(-2)).toEqual([
        { kind: 'key', keys: ['k2'] },
        { kind: 'key', keys: ['k1'] },
      ])
      expect(received.length).toBeLessThanOrEqual(3)
    } finally {
      own.resume()
      await a.close()
      await b.close()
      await own.stop()
    }
  })

  it('collapses an overflowing queue into one clear', async () => {
    const own = await startRedisServer({ ownServer: true })
    const a = new RedisBus({
      url: own.url,
      instanceId: 'a',
      maxPending: 3,
      heartbeat: '100ms',
      localDelivery: false,
    })
    const b = new RedisBus({ url: own.url, instanceId: 'b', heartbeat: 0, localDelivery: false })
    open.push(a, b)
    const events = record(b)
    try {
      await Promise.all([a.ready(), b.ready()])
      own.pause()
      for (let i = 0; i < 10; i++) await a.publish({ kind: 'key', keys: [`k${i}`] })
      expect(a.counters().pending).toBe(1)
      own.resume()
      // What a received, but the barrier's marker (the one pattern).
      const kinds = () =>
        events
          .filter((e) => e.type === 'invalidation' && e.invalidation.kind !== 'pattern')
          .map((e) => (e as { invalidation: { kind: string } }).invalidation)
      const markerSeen = () =>
        events.some((e) => e.type === 'invalidation' && e.invalidation.kind === 'pattern')
      await until(() => kinds().some((i) => i.kind === 'clear'), 10_000)
      await until(() => a.counters().pending === 0, 5000)
      // Barrier: a's marker leaves on the same connection after everything it had queued.
      await a.publish({ kind: 'pattern', pattern: 'marker:*' })
      await until(markerSeen, 5000)
      // The first publish reached the stopped server's socket before it timed out, so Redis delivers
      // it on resume; everything after it was collapsed into the one clear.
      expect(kinds().filter((i) => i.kind === 'clear')).toHaveLength(1)
      expect(kinds().filter((i) => i.kind !== 'clear')).toEqual(
        kinds().length === 2 ? [{ kind: 'key', keys: ['k0'] }] : [],
      )
      expect(a.counters().pending).toBe(0)
    } finally {
      own.resume()
      await a.close()
      await b.close()
      await own.stop()
    }
  })

  it('treats a hung server (SIGSTOP) as a drop via the heartbeat, then reconnects', async () => {
    const own = await startRedisServer({ ownServer: true })
    const b = new RedisBus({ url: own.url, heartbeat: '100ms', localDelivery: false })
    open.push(b)
    const events = record(b)
    try {
      await b.ready()
      own.pause()
      await until(() => !b.isConnected(), 3000)
      expect(events.at(-1)).toMatchObject({ type: 'state', state: 'disconnected' })
      own.resume()
      await until(() => b.isConnected(), 10_000)
      expect(b.counters().reconnects).toBe(1)
    } finally {
      own.resume()
      await b.close()
      await own.stop()
    }
  })

  it('takes ioredis options as redisOptions, or under their deprecated name redis', async () => {
    const { hostname, port } = new URL(server.url)
    const prefix = `t${++prefixCounter}:`
    const current = bus({ url: undefined, redisOptions: { host: hostname, port: Number(port) } }, prefix)
    const deprecated = bus({ url: undefined, redis: { host: hostname, port: Number(port) } }, prefix)
    const events = record(deprecated)
    expect(await current.ready()).toBe(true)
    expect(await deprecated.ready()).toBe(true)
    await current.publish({ kind: 'key', keys: ['k'] })
    await until(() => events.some((e) => e.type === 'invalidation'))
  })

  it('refuses bad options with a clear error', () => {
    const attempts: [Record<string, unknown>, string][] = [
      [{ url: 'redis://x', colour: 'red' }, 'unknown option "colour"'],
      [{}, 'give "url" or "redisOptions"'],
      [{ url: 'redis://x', redisOptions: {}, redis: {} }, 'or its deprecated alias "redis", not both'],
      // The same rule as RedisStore's (validatePrefix).
      [{ url: 'redis://x', prefix: 'a b' }, 'RedisBus: invalid prefix "a b"'],
      [{ url: 'redis://x', prefix: 'x'.repeat(129) }, 'RedisBus: invalid prefix'],
      [{ url: 'redis://x', instanceId: 'a|b' }, 'option "instanceId"'],
      [{ url: 'redis://x', maxPending: 0 }, 'option "maxPending"'],
      [{ url: 'redis://x', heartbeat: 'soon' }, 'heartbeat'],
    ]
    for (const [options, message] of attempts) {
      let error: unknown
      try {
        new RedisBus(options as never)
      } catch (e) {
        error = e
      }
      expect(CacheError.is(error), message).toBe(true)
      expect((error as Error).message).toContain(message)
      expect([CacheErrorCode.INVALID_OPTION, CacheErrorCode.INVALID_DURATION]).toContain(
        (error as CacheError).code,
      )
    }
  })
})
