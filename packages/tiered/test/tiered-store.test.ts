import {
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  createEntry,
  jsonSerializer,
  type StoreEvent,
} from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { RedisStore } from '@strata-cache/redis'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { freePort } from '@strata-cache/test-suite/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { BusEvent } from '../src/invalidation.ts'
import { MemoryBus, MemoryBusHub } from '../src/memory-bus.ts'
import { RedisBus } from '../src/redis-bus.ts'
import { TieredStore } from '../src/tiered-store.ts'
import { GatedStore } from './helpers/gated-store.ts'
import { until } from './helpers/wait.ts'

let server: RedisServer
let counter = 0
const cleanups: (() => Promise<void>)[] = []

beforeAll(async () => {
  server = await startRedisServer({ ownServer: true })
})
afterAll(async () => {
  await server?.stop()
})
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const HOUR = 3_600_000

/** A pod's store (L1 MemoryStore, gated L2, RedisBus) plus a second bus on the same channel playing "another pod". */
async function setup(options: { url?: string; degradedL1Ttl?: number; l1MaxBytes?: number } = {}) {
  const prefix = `ts${++counter}:`
  const url = options.url ?? server.url
  let now = Date.now()
  const clock = () => now
  const l1 = new MemoryStore({
    name: 'l1',
    now: clock,
    ...(options.l1MaxBytes ? { maxBytes: options.l1MaxBytes } : {}),
  })
  const l2 = new GatedStore()
  const bus = new RedisBus({ url, prefix, instanceId: 'self', heartbeat: '100ms', localDelivery: false })
  // Every L2 hit fills L1 (the fill and its guards are under test; admission has its own tests).
  const store = new TieredStore({
    l1,
    l2,
    bus,
    now: clock,
    degradedL1Ttl: options.degradedL1Ttl ?? 5000,
    l1Admission: 'always',
  })
  const other = new RedisBus({ url, prefix, instanceId: 'other', heartbeat: '100ms', localDelivery: false })
  const events: StoreEvent[] = []
  store.subscribe((event) => events.push(event))
  const seenByOther: BusEvent[] = []
  other.subscribe((event) => seenByOther.push(event))
  cleanups.push(async () => {
    await store.close()
    await other.close()
  })
  expect(await store.ready()).toBe(true)
  expect(await other.ready()).toBe(true)
  const entry = <T>(value: T, ttlMs = HOUR, graceMs = 0, tags?: string[]): CacheEntry<T> =>
    createEntry(value, ttlMs, graceMs, now, tags)
  return {
    store,
    l1,
    l2,
    bus,
    other,
    events,
    seenByOther,
    entry,
    advance: (ms: number) => {
      now += ms
    },
    /** Waits until the store has applied `count` invalidations from the bus. */
    received: (count: number) =>
      until(
        () => events.filter((e) => e.type === 'invalidate').length >= count,
        5000,
        `${count} bus invalidations`,
      ),
  }
}

describe('TieredStore reads and writes', () => {
  it('reads L2 on an L1 miss and fills L1 with a TTL no longer than the L2 entry', async () => {
    const { store, l1, l2, entry } = await setup()
    const stored = entry({ n: 1 }, 60_000, 10_000)
    await l2.set('a', stored)
    expect(store.peek('a')).toBeUndefined()
    const read = await store.get<{ n: number }>('a')
    expect(read?.value).toEqual({ n: 1 })
    expect(read?.tier).toBe('l2')
    const filled = l1.peek<{ n: number }>('a')
    expect(filled?.value).toEqual({ n: 1 })
    expect(filled?.expiresAt).toBe(stored.expiresAt)
    expect(filled?.staleUntil).toBe(stored.staleUntil)
    expect((await store.get('a'))?.tier).toBe('l1')
  })

  it('set writes L2, then L1, then tells the other pods', async () => {
    const { store, l1, l2, entry, seenByOther } = await setup()
    await store.set('k', entry('v', HOUR, 0, ['t1']))
    expect((await l2.inner.get('k'))?.value).toBe('v')
    expect(l1.peek('k')?.value).toBe('v')
    expect(store.peek('k')?.tags).toEqual(['t1'])
    await until(() => seenByOther.some((e) => e.type === 'invalidation'))
    expect(seenByOther.find((e) => e.type === 'invalidation')).toMatchObject({
      from: 'self',
      invalidation: { kind: 'key', keys: ['k'] },
    })
  })

  it('overlapping sets of one key leave L1 agreeing with L2', async () => {
    const { store, l1, l2, entry } = await setup()
    for (let round = 0; round < 20; round++) {
      await Promise.all([store.set('k', entry(`a${round}`)), store.set('k', entry(`b${round}`))])
      const inL2 = (await l2.inner.get('k'))?.value
      const inL1 = l1.peek('k')?.value
      expect(inL1 === undefined || inL1 === inL2).toBe(true)
      expect((await store.get('k'))?.value).toBe(inL2)
    }
  })

  it('an invalid value is refused before anything is written, and the previous entry stays', async () => {
    const { store, l1, entry } = await setup()
    await store.set('k', entry('old'))
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await expect(store.set('k', entry(cyclic))).rejects.toSatisfy((e: unknown) =>
      CacheError.is(e, CacheErrorCode.SERIALIZATION),
    )
    expect(l1.peek('k')?.value).toBe('old')
    expect((await store.get('k'))?.value).toBe('old')
  })

  it('delete, deletePattern, deleteTags and clear apply to both tiers and return L2 counts', async () => {
    const { store, l1, l2, entry, seenByOther } = await setup()
    await store.set('user:1', entry(1, HOUR, 0, ['red']))
    await store.set('user:2', entry(2, HOUR, 0, ['blue']))
    await store.set('item:1', entry(3, HOUR, 0, ['red']))
    await l2.inner.set('user:3', entry(4)) // only in L2
    expect(await store.deletePattern('user:*')).toBe(3)
    expect(l1.peek('user:1')).toBeUndefined()
    expect(await l2.inner.get('user:3')).toBeUndefined()
    expect(await store.deleteTags(['red'])).toBe(1)
    expect(l1.peek('item:1')).toBeUndefined()
    await store.set('x', entry('x'))
    expect(await store.delete('x')).toBe(true)
    expect(await store.delete('x')).toBe(false)
    await store.set('y', entry('y'))
    await store.clear()
    expect(l1.peek('y')).toBeUndefined()
    expect(await l2.inner.get('y')).toBeUndefined()
    await until(() => seenByOther.filter((e) => e.type === 'invalidation').length >= 10)
    const kinds = seenByOther.flatMap((e) => (e.type === 'invalidation' ? [e.invalidation.kind] : []))
    expect(kinds.slice(-6)).toEqual(['pattern', 'tags', 'key', 'key', 'key', 'key', 'clear'].slice(-6))
    expect(kinds).toContain('clear')
  })

  it('an L1 that refuses a value (over its maxBytes) drops its old copy instead of keeping it', async () => {
    const { store, l1, l2, entry, events } = await setup({ l1MaxBytes: 64 })
    await store.set('k', entry('small'))
    await store.set('k', entry('x'.repeat(200)))
    expect(l1.peek('k')).toBeUndefined()
    expect((await l2.inner.get('k'))?.value).toBe('x'.repeat(200))
    expect((await store.get('k'))?.value).toBe('x'.repeat(200))
    expect(events.find((e) => e.type === 'error')).toMatchObject({ operation: 'set', tier: 'l1', key: 'k' })
  })
})

describe('TieredStore batches', () => {
  it('getMany serves L1 hits, reads the rest from L2 in one call and fills L1', async () => {
    const { store, l1, l2, entry } = await setup()
    await store.set('a', entry('a'))
    await l2.inner.set('b', entry('b'))
    const got = await store.getMany(['a', 'b', 'c'])
    expect(got.map((e) => e?.value)).toEqual(['a', 'b', undefined])
    expect(got.map((e) => e?.tier)).toEqual(['l1', 'l2', undefined])
    expect(l1.peek('b')?.value).toBe('b')
  })

  it('getMany does not fill L1 with a value whose read overlapped an invalidation', async () => {
    const { store, l1, l2, entry, other, received } = await setup()
    await l2.inner.set('a', entry('old'))
    const gate = l2.holdNextGet()
    const reading = store.getMany(['a'])
    await gate.reading
    await other.publish({ kind: 'key', keys: ['a'] })
    await received(1)
    gate.release()
    expect((await reading)[0]?.value).toBe('old')
    expect(l1.peek('a')).toBeUndefined()
  })

  it('setMany writes L2 then L1 and sends one message with every key', async () => {
    const { store, l1, l2, entry, seenByOther } = await setup()
    await store.setMany([
      ['a', entry(1)],
      ['b', entry(2)],
      ['a', entry(3)],
    ])
    expect((await l2.inner.get('a'))?.value).toBe(3)
    expect(l1.peek('a')?.value).toBe(3)
    expect(l1.peek('b')?.value).toBe(2)
    await until(() => seenByOther.some((e) => e.type === 'invalidation'))
    expect(seenByOther.filter((e) => e.type === 'invalidation')).toMatchObject([
      { invalidation: { kind: 'key', keys: ['a', 'b'] } },
    ])
  })
})

describe('TieredStore in-flight reads', () => {
  it('does not fill L1 with a value whose L2 read overlapped a local delete', async () => {
    const { store, l1, l2, entry } = await setup()
    await l2.inner.set('k', entry('old'))
    const gate = l2.holdNextGet()
    const reading = store.get('k')
    await gate.reading
    await store.delete('k')
    gate.release()
    expect((await reading)?.value).toBe('old') // the caller may see what it read...
    expect(l1.peek('k')).toBeUndefined() // ...but L1 does not keep it
  })

  it('does not fill L1 with an old value when a local set overlapped the read', async () => {
    const { store, l1, l2, entry } = await setup()
    await l2.inner.set('k', entry('old'))
    const gate = l2.holdNextGet()
    const reading = store.get('k')
    await gate.reading
    await store.set('k', entry('new'))
    gate.release()
    await reading
    expect(l1.peek('k')?.value).toBe('new')
    expect((await store.get('k'))?.value).toBe('new')
  })

  it.each([
    ['key', { kind: 'key', keys: ['user:1'] }],
    ['pattern', { kind: 'pattern', pattern: 'user:*' }],
    ['tags', { kind: 'tags', tags: ['t'] }],
    ['clear', { kind: 'clear' }],
  ] as const)(
    'does not fill L1 when a %s invalidation arrives from the bus during the read',
    async (_, invalidation) => {
      const { store, l1, l2, entry, other, received } = await setup()
      await l2.inner.set('user:1', entry('old', HOUR, 0, ['t']))
      const gate = l2.holdNextGet()
      const reading = store.get('user:1')
      await gate.reading
      await other.publish(invalidation)
      await received(1)
      gate.release()
      expect((await reading)?.value).toBe('old')
      expect(l1.peek('user:1')).toBeUndefined()
      // A read that starts after the invalidation fills L1 again.
      await store.get('user:1')
      expect(l1.peek('user:1')?.value).toBe('old')
    },
  )

  it('still fills L1 when an unrelated key is invalidated during the read', async () => {
    const { store, l1, l2, entry, other, received } = await setup()
    await l2.inner.set('user:1', entry('v'))
    const gate = l2.holdNextGet()
    const reading = store.get('user:1')
    await gate.reading
    await other.publish({ kind: 'key', keys: ['user:2'] })
    await other.publish({ kind: 'pattern', pattern: 'item:*' })
    await received(2)
    gate.release()
    await reading
    expect(l1.peek('user:1')?.value).toBe('v')
  })
})

describe('TieredStore and the bus', () => {
  it('applies remote invalidations to L1 and reports each as an invalidate event from the bus', async () => {
    const { store, l1, entry, other, events, received } = await setup()
    await store.set('user:1', entry(1, HOUR, 0, ['red']))
    await store.set('user:2', entry(2))
    await store.set('item:1', entry(3, HOUR, 0, ['red']))
    await store.set('other:1', entry(4))
    await other.publish({ kind: 'key', keys: ['user:2'] })
    await other.publish({ kind: 'tags', tags: ['red'] })
    await received(2)
    expect(l1.peek('user:2')).toBeUndefined()
    expect(l1.peek('user:1')).toBeUndefined()
    expect(l1.peek('item:1')).toBeUndefined()
    expect(l1.peek('other:1')?.value).toBe(4)
    await other.publish({ kind: 'pattern', pattern: 'other:*' })
    await received(3)
    expect(l1.peek('other:1')).toBeUndefined()
    expect(events.filter((e) => e.type === 'invalidate')).toEqual([
      { type: 'invalidate', kind: 'key', source: 'bus', keys: ['user:2'] },
      { type: 'invalidate', kind: 'tags', source: 'bus', tags: ['red'] },
      { type: 'invalidate', kind: 'pattern', source: 'bus', pattern: 'other:*' },
    ])
  })

  it('purges L1 on a sequence gap, even entries with an hour to live', async () => {
    const { store, l1, entry, bus, events } = await setup()
    await store.set('a', entry('a', HOUR))
    const admin = new RedisBus({ url: server.url, prefix: bus.prefix, instanceId: 'x' })
    cleanups.push(() => admin.close())
    await admin.ready()
    await admin.client.publish(bus.channel, '1|x|1|k|unrelated')
    await admin.client.publish(bus.channel, '1|x|3|k|unrelated')
    await until(() => events.some((e) => e.type === 'bus' && e.state === 'gap'))
    expect(l1.peek('a')).toBeUndefined()
    expect(store.peek('a')).toBeUndefined()
    expect((await store.get('a'))?.value).toBe('a') // back from L2
  })

  it('purges L1 when the subscriber connection drops and comes back', async () => {
    const { store, l1, entry, events } = await setup()
    await store.set('a', entry('a', HOUR))
    await store.get('a')
    const admin = new RedisBus({ url: server.url, prefix: 'admin:' })
    cleanups.push(() => admin.close())
    await admin.ready()
    const before = events.length
    await admin.client.client('KILL', 'TYPE', 'pubsub')
    await until(() => events.slice(before).some((e) => e.type === 'bus' && e.state === 'connected'))
    expect(
      events
        .slice(before)
        .filter((e) => e.type === 'bus')
        .map((e) => (e as { state: string }).state),
    ).toEqual(['disconnected', 'connected'])
    expect(l1.peek('a')).toBeUndefined()
  })

  it('serves L1 for at most degradedL1Ttl while the bus is down', async () => {
    const own = await startRedisServer({ ownServer: true })
    cleanups.push(async () => {
      own.resume()
      await own.stop()
    })
    const { store, l1, entry, events, advance } = await setup({ url: own.url, degradedL1Ttl: 5000 })
    await store.set('old', entry('old', HOUR))
    advance(1)
    own.pause()
    await until(() => events.some((e) => e.type === 'bus' && e.state === 'disconnected'), 3000)
    const downAt = Date.now() // not the store's clock: only to show the injected clock drives expiry
    advance(2000)
    // Written while down: L1 keeps it for degradedL1Ttl at most, whatever its own TTL.
    await store.set('new', entry('new', HOUR))
    const newEntry = l1.peek('new')
    expect(newEntry!.staleUntil - newEntry!.createdAt).toBe(5000)
    advance(2000) // 4 s after the drop
    expect(store.peek('old')?.value).toBe('old')
    expect(store.peek('new')?.value).toBe('new')
    advance(1500) // 5.5 s after the drop
    expect(store.peek('old')).toBeUndefined()
    expect(store.peek('new')?.value).toBe('new') // written 3.5 s ago
    advance(2000)
    expect(store.peek('new')).toBeUndefined()
    expect(Date.now() - downAt).toBeLessThan(5000)
    const health = await store.health()
    expect(health.find((c) => c.tier === 'bus')).toMatchObject({ status: 'down', optional: true })
    own.resume()
    await until(() => store.bus?.isConnected() === true, 10_000)
  })

  it('reports stats and health per tier, with the bus counters the metrics read', async () => {
    const { store, entry, other, received } = await setup()
    await store.set('a', entry(1))
    await other.publish({ kind: 'key', keys: ['b'] })
    await received(1)
    const stats = await store.stats()
    expect(stats.map((s) => s.tier)).toEqual(['l1', 'l2', 'bus'])
    const bus = stats.find((s) => s.tier === 'bus')
    expect(bus?.available).toBe(true)
    expect(bus?.details).toMatchObject({ sent: 1, received: 1, dropped: 0, gaps: 0, reconnects: 0 })
    const health = await store.health()
    expect(health).toEqual([
      { tier: 'l1', status: 'up' },
      { tier: 'l2', status: 'up', optional: true },
      { tier: 'bus', status: 'up', optional: true },
    ])
  })

  it('does not purge anything for a malformed message, only counts it', async () => {
    const { store, l1, entry, bus, events } = await setup()
    await store.set('a', entry('a'))
    const admin = new RedisBus({ url: server.url, prefix: 'admin2:' })
    cleanups.push(() => admin.close())
    await admin.ready()
    await admin.client.publish(bus.channel, 'garbage|||')
    await until(() => events.some((e) => e.type === 'bus' && e.state === 'dropped'))
    // Barrier: a valid message published after it has been applied, so the garbage was handled in full.
    await admin.client.publish(bus.channel, '1|marker|1|k|marker')
    await until(() => events.some((e) => e.type === 'invalidate' && e.keys?.[0] === 'marker'))
    expect(l1.peek('a')?.value).toBe('a')
    expect(events.filter((e) => e.type === 'bus').map((e) => (e as { state: string }).state)).toEqual([
      'connected', // the subscription at the start
      'dropped',
    ])
    expect((await store.stats()).find((s) => s.tier === 'bus')?.details).toMatchObject({ dropped: 1 })
  })
})

describe('TieredStore over a RedisStore', () => {
  it('keeps an L1 copy no longer than degradedL1Ttl when L2 failed to take the write', async () => {
    const own = await startRedisServer({ ownServer: true })
    const l1 = new MemoryStore({ name: 'l1' })
    const l2 = new RedisStore({ url: own.url, prefix: 'fail:' })
    // A slow heartbeat: the bus still counts as up, so only the failed L2 write explains the short TTL.
    const bus = new RedisBus({ url: own.url, prefix: 'fail:', heartbeat: '1m', localDelivery: false })
    const store = new TieredStore({ l1, l2, bus, degradedL1Ttl: 2000, l1Admission: 'always' })
    try {
      await store.ready()
      await l2.ready()
      await store.set('ok', createEntry('v', HOUR, 0, Date.now()))
      expect(l1.peek('ok')!.staleUntil - l1.peek('ok')!.createdAt).toBe(HOUR)
      own.pause()
      const before = Date.now()
      await store.set('k', createEntry('v', HOUR, 0, before))
      expect(store.bus?.isConnected()).toBe(true)
      expect(l2.isAvailable()).toBe(true) // one failure does not open the breaker
      expect(l1.peek('k')!.staleUntil).toBeLessThanOrEqual(Date.now() + 2000)
    } finally {
      own.resume()
      await store.close()
      await own.stop()
    }
  })
})

describe('TieredStore filling L1 from an L2 read', () => {
  const rack = { id: 1, name: 'rack-é', units: [{ u: 0, watts: 100 }], at: new Date(Date.UTC(2026, 0, 1)) }

  /** L1 and L2 (a RedisStore on the shared server), no bus: only the fill is under test. */
  function redisTiers(l1Options: { maxBytes?: number } = {}) {
    const l1 = new MemoryStore({ name: 'l1', ...l1Options })
    const l2 = new RedisStore({ url: server.url, prefix: `fill${++counter}:` })
    const store = new TieredStore({ l1, l2, l1Admission: 'always' })
    const events: StoreEvent[] = []
    store.subscribe((event) => events.push(event))
    cleanups.push(() => store.close())
    return { store, l1, l2, events }
  }

  it('hands the caller the very object L1 now serves, deep-frozen, counted at its JSON length', async () => {
    const { store, l1, l2 } = redisTiers()
    await l2.set('k', createEntry(rack, HOUR, 0, Date.now()))
    const read = await store.get<typeof rack>('k')
    expect(read?.tier).toBe('redis')
    expect(read?.value).toEqual(rack)
    const held = l1.peek<typeof rack>('k')!
    expect(held.value).toBe(read!.value)
    expect(Object.isFrozen(held.value.units[0])).toBe(true)
    expect(() => {
      ;(held.value.units[0] as { watts: number }).watts = 0
    }).toThrow(TypeError)
    expect(() => held.value.at.setTime(0)).toThrow(/frozen/)
    // Same bytes as a copy made by set would count.
    const copied = new MemoryStore()
    await copied.set('k', createEntry(rack, HOUR, 0, Date.now()))
    const bytes = (await l1.stats())[0]!.bytes
    expect(bytes).toBe((await copied.stats())[0]!.bytes)
    expect(bytes).toBe(Buffer.byteLength(jsonSerializer.serialize(rack)))
    // Another read of L2 decodes its own object, untouched by the freeze.
    const again = await l2.get<typeof rack>('k')
    expect(again?.value).not.toBe(read?.value)
    expect(Object.isFrozen(again?.value)).toBe(false)
    // The caller's own object written through set is never frozen.
    const mine = { n: 1 }
    await store.set('mine', createEntry(mine, HOUR, 0, Date.now()))
    expect(Object.isFrozen(mine)).toBe(false)
    expect(l1.peek('mine')?.value).not.toBe(mine)
  })

  it('ready() waits for L2 too: true once Redis answers, false when it does not in time', async () => {
    const hub = new MemoryBusHub()
    const up = new TieredStore({
      l1: new MemoryStore(),
      l2: new RedisStore({ url: server.url, prefix: `ready${++counter}:` }),
      bus: new MemoryBus({ hub, instanceId: 'up' }),
    })
    cleanups.push(() => up.close())
    expect(await up.ready(5000)).toBe(true)
    expect((up.l2 as RedisStore).isAvailable()).toBe(true)
    const port = await freePort() // nothing listens there
    const down = new TieredStore({
      l1: new MemoryStore(),
      l2: new RedisStore({ url: `redis://127.0.0.1:${port}`, prefix: `ready${++counter}:` }),
      bus: new MemoryBus({ hub, instanceId: 'down' }),
    })
    cleanups.push(() => down.close())
    expect(await down.ready(300)).toBe(false)
  })

  it('a set on a store whose L2 is not ready yet keeps its own TTL in L1 once L2 took the write', async () => {
    const l1 = new MemoryStore({ name: 'l1' })
    const l2 = new RedisStore({ url: server.url, prefix: `fresh${++counter}:` })
    const store = new TieredStore({ l1, l2 })
    cleanups.push(() => store.close())
    expect(l2.isAvailable()).toBe(false) // connecting: the first write waits for the connection
    const written = createEntry('v', HOUR, 0, Date.now())
    await store.set('k', written)
    expect((await l2.get('k'))?.value).toBe('v')
    expect(l1.peek('k')).toMatchObject({ value: 'v', expiresAt: written.expiresAt })
  })

  it("keeps a write's L1 copy as the text sent to L2, built on its first read: equal, frozen, then the same object", async () => {
    const { store, l1 } = redisTiers()
    await store.set('w', createEntry(rack, HOUR, 0, Date.now(), ['racks']))
    expect((await l1.stats())[0]!.bytes).toBe(Buffer.byteLength(jsonSerializer.serialize(rack)))
    const first = l1.peek<typeof rack>('w')!
    expect(first.value).toEqual(rack)
    expect(first.tags).toEqual(['racks'])
    expect(Object.isFrozen(first.value.units[0])).toBe(true)
    expect(l1.peek('w')).toBe(first)
    // A loader's result takes the same way; the loader's own object is left as it was.
    const loaded = { n: 2, at: new Date(0) }
    const token = store.startLoad('l')
    expect(await store.setLoaded('l', createEntry(loaded, HOUR, 0, Date.now()), token)).toBe(true)
    expect(Object.isFrozen(loaded)).toBe(false)
    expect(l1.peek<typeof loaded>('l')?.value).toEqual(loaded)
    expect(await l1.deleteTags(['racks'])).toBe(1)
  })

  it('getMany fills each L1 entry with its own frozen value, tags indexed', async () => {
    const { store, l1, l2 } = redisTiers()
    await l2.set('a', createEntry({ n: 1 }, HOUR, 0, Date.now(), ['t']))
    await l2.set('b', createEntry({ n: 2 }, HOUR, 0, Date.now()))
    const got = await store.getMany<{ n: number }>(['a', 'b', 'a'])
    expect(got.map((e) => e?.value.n)).toEqual([1, 2, 1])
    expect(l1.peek('b')?.value).toBe(got[1]!.value)
    expect(got.every((e) => Object.isFrozen(e?.value))).toBe(true)
    expect(await l1.deleteTags(['t'])).toBe(1)
    expect(l1.peek('a')).toBeUndefined()
    expect(l1.peek('b')?.value).toEqual({ n: 2 })
  })

  it('an L1 over its maxBytes refuses the fill: reported, nothing kept, the caller still gets the value', async () => {
    const { store, l1, l2, events } = redisTiers({ maxBytes: 16 })
    await l2.set('big', createEntry({ text: 'x'.repeat(64) }, HOUR, 0, Date.now()))
    const read = await store.get<{ text: string }>('big')
    expect(read?.value.text).toHaveLength(64)
    expect(Object.isFrozen(read?.value)).toBe(false) // refused before the freeze
    expect(l1.peek('big')).toBeUndefined()
    expect((await l1.stats())[0]!.bytes).toBe(0)
    expect(events.find((e) => e.type === 'error')).toMatchObject({ operation: 'set', tier: 'l1', key: 'big' })
  })

  it('copies instead when L2 decodes with another serializer (its values may not be plain JSON)', async () => {
    const l1 = new MemoryStore({ name: 'l1' })
    const l2 = new RedisStore({
      url: server.url,
      prefix: `fill${++counter}:`,
      serializer: { name: 'json-too', serialize: JSON.stringify, deserialize: JSON.parse },
    })
    const store = new TieredStore({ l1, l2, l1Admission: 'always' })
    cleanups.push(() => store.close())
    await l2.set('k', createEntry({ n: 1 }, HOUR, 0, Date.now()))
    const read = await store.get<{ n: number }>('k')
    expect(Object.isFrozen(read?.value)).toBe(false)
    expect(l1.peek('k')?.value).not.toBe(read?.value)
    expect(Object.isFrozen(l1.peek('k')?.value)).toBe(true)
  })

  it('does not fill L1 with a decoded value whose read overlapped a local delete or a bus invalidation', async () => {
    const { store, l1, l2, entry, other, received } = await setup()
    l2.decoded = true
    await l2.inner.set('k', entry('old'))
    let gate = l2.holdNextGet()
    let reading = store.get('k')
    await gate.reading
    await store.delete('k')
    gate.release()
    expect((await reading)?.value).toBe('old')
    expect(l1.peek('k')).toBeUndefined()

    await l2.inner.set('k', entry('old'))
    gate = l2.holdNextGet()
    reading = store.get('k')
    await gate.reading
    await other.publish({ kind: 'key', keys: ['k'] })
    await received(1)
    gate.release()
    expect((await reading)?.value).toBe('old')
    expect(l1.peek('k')).toBeUndefined()
    // A read that starts afterwards takes the decoded value over.
    const read = await store.get<string>('k')
    expect(l1.peek('k')?.value).toBe('old')
    expect(read?.tier).toBe('l2')
  })

  it('clamps a filled entry to degradedL1Ttl while L2 reports itself unavailable', async () => {
    const { store, l1, l2, entry } = await setup({ degradedL1Ttl: 1000 })
    l2.decoded = true
    await l2.inner.set('k', entry({ n: 1 }))
    // As a RedisStore does while its breaker is open: invalidations may not be reaching L2.
    Object.assign(l2, { isAvailable: () => false })
    const read = await store.get<{ n: number }>('k')
    const held = l1.peek<{ n: number }>('k')!
    expect(held.value).toBe(read!.value)
    expect(held.staleUntil - held.createdAt).toBeLessThanOrEqual(1000)
  })
})
