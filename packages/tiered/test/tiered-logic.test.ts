// TieredStore's own logic (fill guard, gap purge, degraded TTL, lock wiring) over a MemoryBus and an
// in-memory L2: no redis-server, an injected clock, no sleeps.
import {
  type CacheEntry,
  type CacheStore,
  createEntry,
  type DistributedLock,
  type StoreEvent,
  type StoreEventListener,
} from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { afterEach, describe, expect, it } from 'vitest'
import type { BusEvent } from '../src/invalidation.ts'
import { MemoryBus, MemoryBusHub } from '../src/memory-bus.ts'
import { TieredStore } from '../src/tiered-store.ts'
import { GatedStore } from './helpers/gated-store.ts'

const HOUR = 3_600_000
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** A GatedStore that reports failed writes as a RedisStore does: an `error` event, no rejection. */
class FailingL2 extends GatedStore {
  failWrites = false
  available = true
  private readonly listeners = new Set<StoreEventListener>()

  override async set<T>(key: string, entry: CacheEntry<T>): Promise<void> {
    if (!this.failWrites) return super.set(key, entry)
    for (const listener of this.listeners)
      listener({ type: 'error', operation: 'set', tier: 'l2', error: 'down', key })
  }

  async setMany<T>(entries: readonly [string, CacheEntry<T>][]): Promise<void> {
    if (!this.failWrites) {
      for (const [key, entry] of entries) await super.set(key, entry)
      return
    }
    for (const listener of this.listeners)
      listener({ type: 'error', operation: 'setMany', tier: 'l2', error: 'down' })
  }

  isAvailable(): boolean {
    return this.available
  }

  subscribe(listener: StoreEventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

/** A pod's store (L1 MemoryStore, gated L2, MemoryBus) and a second bus on the same hub playing "another pod". */
function setup(
  options: { degradedL1Ttl?: number; lock?: ConstructorParameters<typeof TieredStore>[0]['lock'] } = {},
) {
  let now = Date.now() // the L2 MemoryStore inside GatedStore reads the real clock
  const clock = () => now
  const hub = new MemoryBusHub()
  const l1 = new MemoryStore({ name: 'l1', now: clock })
  const l2 = new FailingL2()
  const bus = new MemoryBus({ hub, instanceId: 'self' })
  const store = new TieredStore({
    l1,
    l2,
    bus,
    now: clock,
    degradedL1Ttl: options.degradedL1Ttl ?? 5000,
    l1Admission: 'always',
    ...(options.lock === undefined ? {} : { lock: options.lock }),
  })
  const other = new MemoryBus({ hub, instanceId: 'other' })
  const events: StoreEvent[] = []
  store.subscribe((event) => events.push(event))
  const seenByOther: BusEvent[] = []
  other.subscribe((event) => seenByOther.push(event))
  cleanups.push(async () => {
    await store.close()
    await other.close()
  })
  const entry = <T>(value: T, ttlMs = HOUR, tags?: string[]): CacheEntry<T> =>
    createEntry(value, ttlMs, 0, now, tags)
  const advance = (ms: number) => {
    now += ms
  }
  const busStates = () => events.flatMap((e) => (e.type === 'bus' ? [e.state] : []))
  return { store, l1, l2, bus, other, hub, events, seenByOther, entry, advance, busStates, clock }
}

describe('fill guard', () => {
  it.each([
    ['key', { kind: 'key', keys: ['user:1'] }],
    ['pattern', { kind: 'pattern', pattern: 'user:*' }],
    ['tags', { kind: 'tags', tags: ['t'] }],
    ['clear', { kind: 'clear' }],
  ] as const)(
    'a %s invalidation from the bus during an L2 read keeps its value out of L1',
    async (_, invalidation) => {
      const { store, l1, l2, entry, other } = setup()
      await l2.inner.set('user:1', entry('old', HOUR, ['t']))
      const gate = l2.holdNextGet()
      const reading = store.get('user:1')
      await gate.reading
      await other.publish(invalidation) // delivered synchronously
      gate.release()
      expect((await reading)?.value).toBe('old')
      expect(l1.peek('user:1')).toBeUndefined()
      // A read that starts after the invalidation fills L1 again.
      await store.get('user:1')
      expect(l1.peek('user:1')?.value).toBe('old')
    },
  )

  it('an invalidation of another key or pattern does not stop the fill', async () => {
    const { store, l1, l2, entry, other } = setup()
    await l2.inner.set('user:1', entry('v'))
    const gate = l2.holdNextGet()
    const reading = store.get('user:1')
    await gate.reading
    await other.publish({ kind: 'key', keys: ['user:2'] })
    await other.publish({ kind: 'pattern', pattern: 'item:*' })
    gate.release()
    await reading
    expect(l1.peek('user:1')?.value).toBe('v')
  })

  it('a local delete or set during an L2 read wins over the read', async () => {
    const { store, l1, l2, entry } = setup()
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
    await store.set('k', entry('new'))
    gate.release()
    await reading
    expect(l1.peek('k')?.value).toBe('new')
  })

  it('getMany keeps a value whose read overlapped an invalidation out of L1, and fills the rest', async () => {
    const { store, l1, l2, entry, other } = setup()
    await l2.inner.set('a', entry('a'))
    await l2.inner.set('b', entry('b'))
    const gate = l2.holdNextGet()
    const reading = store.getMany(['a', 'b'])
    await gate.reading // GatedStore has no getMany: one get per key, the first held
    await other.publish({ kind: 'key', keys: ['a'] })
    gate.release()
    expect((await reading).map((e) => e?.value)).toEqual(['a', 'b'])
    expect(l1.peek('a')).toBeUndefined()
    expect(l1.peek('b')?.value).toBe('b')
  })

  it('overlapping sets of one key leave L1 agreeing with L2', async () => {
    const { store, l1, l2, entry } = setup()
    for (let round = 0; round < 20; round++) {
      await Promise.all([store.set('k', entry(`a${round}`)), store.set('k', entry(`b${round}`))])
      const inL1 = l1.peek('k')?.value
      expect(inL1 === undefined || inL1 === (await l2.inner.get('k'))?.value).toBe(true)
    }
  })

  it('a write L2 reported as failed (set or setMany) stays in L1 for degradedL1Ttl at most', async () => {
    const { store, l1, l2, entry, clock } = setup({ degradedL1Ttl: 2000 })
    await store.set('ok', entry('v'))
    expect(l1.peek('ok')!.staleUntil - clock()).toBe(HOUR)
    l2.failWrites = true
    await store.set('k', entry('v'))
    expect(l1.peek('k')!.staleUntil - clock()).toBe(2000)
    await store.setMany([
      ['m1', entry(1)],
      ['m2', entry(2)],
    ])
    expect(l1.peek('m1')!.staleUntil - clock()).toBe(2000)
    expect(l1.peek('m2')!.staleUntil - clock()).toBe(2000)
    l2.failWrites = false
    await store.set('k', entry('again'))
    expect(l1.peek('k')!.staleUntil - clock()).toBe(HOUR)
  })
})

describe('bus gaps and drops', () => {
  it('a lost message shows as a gap on the next one and purges L1, even entries with an hour to live', async () => {
    const { store, l1, l2, entry, other, hub, events, busStates, bus } = setup()
    await store.set('a', entry('a'))
    await store.set('b', entry('b'))
    await other.publish({ kind: 'key', keys: ['x'] }) // other's first message: the baseline
    hub.loseNext()
    await other.publish({ kind: 'key', keys: ['a'] }) // lost
    expect(l1.peek('a')?.value).toBe('a')
    await other.publish({ kind: 'key', keys: ['y'] })
    expect(busStates()).toEqual(['gap'])
    expect(events.find((e) => e.type === 'bus')).toMatchObject({
      reason: 'instance other: expected sequence 2, got 3',
    })
    expect(l1.peek('a')).toBeUndefined()
    expect(l1.peek('b')).toBeUndefined()
    expect(bus.counters()).toMatchObject({ gaps: 1, received: 2 })
    // Back from L2 on the next read, and kept again.
    await l2.inner.set('a', entry('a2'))
    expect((await store.get('a'))?.value).toBe('a2')
    expect(l1.peek('a')?.value).toBe('a2')
  })

  it('a gap during an L2 read keeps its value out of L1', async () => {
    const { store, l1, l2, entry, other, hub } = setup()
    await l2.inner.set('k', entry('v'))
    await other.publish({ kind: 'key', keys: ['x'] })
    const gate = l2.holdNextGet()
    const reading = store.get('k')
    await gate.reading
    hub.loseNext()
    await other.publish({ kind: 'key', keys: ['k'] })
    await other.publish({ kind: 'key', keys: ['y'] })
    gate.release()
    expect((await reading)?.value).toBe('v')
    expect(l1.peek('k')).toBeUndefined()
  })

  it('reconnecting purges L1: what was published while disconnected never arrives', async () => {
    const { store, l1, entry, bus, other, busStates, seenByOther } = setup()
    await store.set('a', entry('a'))
    bus.disconnect()
    await other.publish({ kind: 'key', keys: ['a'] }) // missed
    await store.set('mine', entry('mine')) // queued for the other pods
    expect(bus.counters().pending).toBe(1)
    expect(seenByOther.filter((e) => e.type === 'invalidation')).toHaveLength(1) // a's, before the drop
    await bus.connect()
    expect(busStates()).toEqual(['disconnected', 'connected'])
    expect(l1.peek('a')).toBeUndefined()
    expect(l1.peek('mine')).toBeUndefined()
    expect(bus.counters()).toMatchObject({ pending: 0, reconnects: 1 })
    expect(seenByOther.filter((e) => e.type === 'invalidation').at(-1)).toMatchObject({
      from: 'self',
      invalidation: { kind: 'key', keys: ['mine'] },
    })
  })
})

describe('degraded L1', () => {
  it('while the bus is down, serves L1 for degradedL1Ttl at most, by the injected clock', async () => {
    const { store, l1, entry, bus, advance } = setup({ degradedL1Ttl: 5000 })
    await store.set('old', entry('old'))
    advance(1)
    bus.disconnect()
    advance(2000)
    // Written while down: L1 keeps it for degradedL1Ttl at most, whatever its own TTL.
    await store.set('new', entry('new'))
    const written = l1.peek('new')!
    expect(written.staleUntil - written.createdAt).toBe(5000)
    advance(2000) // 4 s after the drop
    expect(store.peek('old')?.value).toBe('old')
    expect(store.peek('new')?.value).toBe('new')
    advance(1500) // 5.5 s after the drop
    expect(store.peek('old')).toBeUndefined()
    expect(store.peek('new')?.value).toBe('new') // written 3.5 s ago
    advance(2000)
    expect(store.peek('new')).toBeUndefined()
    expect((await store.health()).find((c) => c.tier === 'bus')).toMatchObject({
      status: 'down',
      optional: true,
    })
    await bus.connect()
    expect((await store.health()).find((c) => c.tier === 'bus')).toEqual({
      tier: 'bus',
      status: 'up',
      optional: true,
    })
  })

  it('an entry filled while L2 reports itself unavailable is clamped too', async () => {
    const { store, l1, l2, entry, clock } = setup({ degradedL1Ttl: 1000 })
    await l2.inner.set('k', entry({ n: 1 }))
    l2.available = false
    await store.get('k')
    expect(l1.peek('k')!.staleUntil - clock()).toBe(1000)
    // Counts come from L1 while L2 is unavailable.
    expect(await store.delete('k')).toBe(true)
  })
})

describe('TieredStores sharing a MemoryBusHub', () => {
  it('a write on one drops the others\u2019 L1 copy before it returns', async () => {
    const hub = new MemoryBusHub()
    const shared = new MemoryStore({ name: 'shared' })
    const pods = ['a', 'b'].map(
      (id) =>
        new TieredStore({
          l1: new MemoryStore({ name: 'l1' }),
          l2: shared as CacheStore,
          bus: new MemoryBus({ hub, instanceId: id }),
          l1Admission: 'always',
        }),
    )
    const [a, b] = pods as [TieredStore, TieredStore]
    cleanups.push(async () => {
      await a.close()
      await b.close()
    })
    await a.set('k', createEntry('v1', HOUR, 0, Date.now()))
    expect((await b.get('k'))?.value).toBe('v1')
    expect(b.l1.peek?.('k')?.value).toBe('v1')
    await a.set('k', createEntry('v2', HOUR, 0, Date.now()))
    expect(b.l1.peek?.('k')).toBeUndefined()
    expect((await b.get('k'))?.value).toBe('v2')
    expect((await b.stats()).find((s) => s.tier === 'bus')?.details).toMatchObject({ received: 2, gaps: 0 })
  })
})

describe('lock wiring and key notices', () => {
  it('builds no lock by itself; a lock factory gets the store, whose key notices wake on the bus', async () => {
    expect(setup().store.lock).toBeUndefined()
    const lock: DistributedLock = { acquire: async () => undefined, waitFor: async () => undefined }
    let given: TieredStore | undefined
    const { store, other } = setup({
      lock: (s) => {
        given = s
        return lock
      },
    })
    expect(given).toBe(store)
    expect(store.lock).toBe(lock)
    const woken: string[] = []
    const stop = store.onKeyNotice('k', () => woken.push('k'))
    await other.publish({ kind: 'key', keys: ['other', 'k'] })
    stop()
    await other.publish({ kind: 'key', keys: ['k'] })
    expect(woken).toEqual(['k'])
    expect(setup({ lock: false }).store.lock).toBeUndefined()
  })
})

describe('listeners', () => {
  it('a throwing listener breaks no call and no other listener: it becomes a process warning', async () => {
    const { store, entry, other, events } = setup()
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      store.subscribe(() => {
        throw new Error('listener bug')
      })
      await store.set('k', entry('v'))
      await other.publish({ kind: 'key', keys: ['k'] })
      expect(events.filter((e) => e.type === 'invalidate')).toHaveLength(1)
      await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
      expect(warnings.map((w) => w.message)).toContainEqual(expect.stringContaining('listener bug'))
    } finally {
      process.off('warning', onWarning)
    }
  })
})

describe('MemoryBus', () => {
  it('queues while disconnected, latest wins, and collapses past maxPending into one clear', async () => {
    const hub = new MemoryBusHub()
    const a = new MemoryBus({ hub, instanceId: 'a', maxPending: 3 })
    const b = new MemoryBus({ hub, instanceId: 'b' })
    cleanups.push(async () => {
      await a.close()
      await b.close()
    })
    const atB: BusEvent[] = []
    b.subscribe((event) => atB.push(event))
    a.disconnect()
    expect(await a.ready(1)).toBe(false)
    await a.publish({ kind: 'key', keys: ['k1'] })
    await a.publish({ kind: 'key', keys: ['k2'] })
    await a.publish({ kind: 'key', keys: ['k1'] })
    expect(a.counters().pending).toBe(2)
    const ready = a.ready()
    await a.connect()
    expect(await ready).toBe(true)
    expect(atB.flatMap((e) => (e.type === 'invalidation' ? [e.invalidation] : []))).toEqual([
      { kind: 'key', keys: ['k2'] },
      { kind: 'key', keys: ['k1'] },
    ])
    a.disconnect()
    for (let i = 0; i < 10; i++) await a.publish({ kind: 'key', keys: [`k${i}`] })
    expect(a.counters().pending).toBe(1)
    await a.connect()
    expect(atB.at(-1)).toMatchObject({
      type: 'invalidation',
      from: 'a',
      seq: 3,
      invalidation: { kind: 'clear' },
    })
    expect(b.counters()).toMatchObject({ received: 3, gaps: 0 })
  })

  it('refuses a bad instance id', () => {
    expect(() => new MemoryBus({ instanceId: 'a|b' })).toThrow(/option "instanceId"/)
  })
})
