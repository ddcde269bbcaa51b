// L1 admission: the doorkeeper itself, and what TieredStore does with it (L2 hits of keys seen once
// stay out of L1; a pod's own writes, keys L1 holds and keys seen twice go in; the fill guards still
// apply to admitted reads; a removal pending on L2 still hides the value it will remove).
import {
  Cache,
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  type CacheStore,
  createEntry,
} from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import type { InvalidationOutcome, RedisStore, StoreInvalidation } from '@strata-cache/redis'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../src/create-cache.ts'
import { ADMIT_ALL, hashKey, L1AdmissionMode, SeenTwice } from '../src/l1-admission.ts'
import { MemoryBus, MemoryBusHub } from '../src/memory-bus.ts'
import { TieredStore } from '../src/tiered-store.ts'
import type { TieredStoreOptions } from '../src/tiered-store-options.ts'
import { GatedStore } from './helpers/gated-store.ts'

const HOUR = 3_600_000
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})
/** For the tests through createCache and a RedisStore. */
let server: RedisServer
beforeAll(async () => {
  server = await startRedisServer()
})
afterAll(() => server.stop())

const entry = <T>(value: T, ttlMs = HOUR, graceMs = 0): CacheEntry<T> =>
  createEntry(value, ttlMs, graceMs, Date.now())

describe('SeenTwice', () => {
  it('admits a key the second time it is seen; wouldAdmit records nothing', () => {
    const doorkeeper = new SeenTwice(100)
    expect(doorkeeper.wouldAdmit('a')).toBe(false)
    expect(doorkeeper.wouldAdmit('a')).toBe(false)
    expect(doorkeeper.admit('a')).toBe(false)
    expect(doorkeeper.wouldAdmit('a')).toBe(true)
    expect(doorkeeper.admit('a')).toBe(true)
    expect(doorkeeper.admit('b')).toBe(false)
    expect(doorkeeper.knows(hashKey('b'))).toBe(true)
  })

  it('remembers a first sighting for one to two windows of new keys; a key seen again is remembered again', () => {
    const others = (doorkeeper: SeenTwice, from: number, count: number) => {
      for (let i = from; i < from + count; i++) doorkeeper.admit(`other:${i}`)
    }
    const once = new SeenTwice(10)
    once.admit('k')
    others(once, 0, 19)
    expect(once.wouldAdmit('k')).toBe(true) // 19 other new keys: within two windows
    others(once, 19, 1)
    expect(once.wouldAdmit('k')).toBe(false) // the 20th: forgotten
    expect(once.wouldAdmit('other:19')).toBe(true)

    const twice = new SeenTwice(10)
    twice.admit('k')
    others(twice, 0, 15)
    expect(twice.admit('k')).toBe(true) // seen again: remembered in the current filter too
    others(twice, 15, 10)
    expect(twice.wouldAdmit('k')).toBe(true)
  })

  it('lets few first sightings pass for second ones', () => {
    const doorkeeper = new SeenTwice(10_000)
    for (let i = 0; i < 9_999; i++) doorkeeper.admit(`thermal:rack:${i}:a1b2c3d4`)
    let passed = 0
    for (let i = 0; i < 100_000; i++) if (doorkeeper.wouldAdmit(`device:info:${i}:ffee0011`)) passed++
    expect(passed / 100_000).toBeLessThan(0.005)
  })

  it('ADMIT_ALL admits everything', () => {
    expect(ADMIT_ALL.admit('x')).toBe(true)
    expect(ADMIT_ALL.wouldAdmit('y')).toBe(true)
  })
})

/** A TieredStore over a GatedStore L2 (fresh decoded objects, as a RedisStore returns), default admission. */
function setup(options: Partial<TieredStoreOptions> = {}) {
  const l1 = new MemoryStore({ name: 'l1' })
  const l2 = new GatedStore()
  l2.decoded = true
  const hub = new MemoryBusHub()
  const bus = new MemoryBus({ hub, instanceId: 'self' })
  const store = new TieredStore({ l1, l2, bus, ...options })
  const other = new MemoryBus({ hub, instanceId: 'other' })
  cleanups.push(async () => {
    await store.close()
    await other.close()
  })
  return { store, l1, l2, other }
}

describe('TieredStore admission (default seen-twice)', () => {
  it('an L2 hit of a key seen once stays out of L1 and is handed back unfrozen; the second fills L1', async () => {
    const { store, l1, l2 } = setup()
    const cache = new Cache({ store })
    await l2.set('k', entry({ n: 1 }))
    const first = await cache.get<{ n: number }>('k')
    expect(first).toEqual({ n: 1 })
    expect(Object.isFrozen(first)).toBe(false)
    expect(l1.peek('k')).toBeUndefined()
    const second = await cache.get<{ n: number }>('k')
    expect(l1.peek('k')?.value).toBe(second)
    expect(Object.isFrozen(second)).toBe(true)
    expect(await cache.get('k')).toBe(second)
    // One counted L1 lookup per read, though each miss looked twice (Cache.get peeks, then gets):
    // three reads and the test's two peeks.
    expect((await l1.stats())[0]).toMatchObject({ hits: 2, misses: 3 })
  })

  it("a pod's own set goes into L1 at once", async () => {
    const { store, l1 } = setup()
    await store.set('mine', entry('v'))
    expect(l1.peek('mine')?.value).toBe('v')
  })

  it('a key L1 holds within grace is refreshed from its first L2 read', async () => {
    let now = Date.now()
    const { store, l1, l2 } = setup({ now: () => now })
    await store.set('k', createEntry('old', 1000, HOUR, now))
    now += 2000 // past its TTL, within grace
    await l2.set('k', createEntry('new', HOUR, 0, now))
    expect((await store.get('k'))?.value).toBe('new')
    expect(l1.peek('k', now)?.value).toBe('new')
  })

  it('the fill guard still applies to an admitted read: an invalidation during it keeps the value out', async () => {
    const { store, l1, l2, other } = setup()
    await l2.set('k', entry('v1'))
    await store.get('k') // first sighting
    const { reading, release } = l2.holdNextGet()
    const read = store.get('k')
    await reading
    await l2.set('k', entry('v2'))
    await other.publish({ kind: 'key', keys: ['k'] })
    release()
    expect((await read)?.value).toBe('v1') // what L2 held when the read started
    expect(l1.peek('k')).toBeUndefined()
    expect((await store.get('k'))?.value).toBe('v2')
  })

  it('getMany: keys seen once are returned and left out of L1, keys seen twice fill it', async () => {
    const { store, l1, l2 } = setup()
    for (const key of ['a', 'b', 'c']) await l2.set(key, entry(key))
    await store.get('a')
    const got = await store.getMany<string>(['a', 'b', 'c', 'none'])
    expect(got.map((e) => e?.value)).toEqual(['a', 'b', 'c', undefined])
    expect(['a', 'b', 'c'].map((key) => l1.peek(key)?.value)).toEqual(['a', undefined, undefined])
    await store.getMany(['b', 'c'])
    expect(['b', 'c'].map((key) => l1.peek(key)?.value)).toEqual(['b', 'c'])
  })

  it("the window defaults to L1's maxEntries", async () => {
    const tiers = (options: Partial<TieredStoreOptions>) => {
      const l1 = new MemoryStore({ maxEntries: 1 })
      const l2 = new GatedStore()
      const store = new TieredStore({ l1, l2, ...options })
      cleanups.push(() => store.close())
      return { store, l1, l2 }
    }
    for (const [options, filled] of [
      [{}, false], // a window of one key: `a` is forgotten two L2 hits later
      [{ l1AdmissionWindow: 10 }, true],
    ] as const) {
      const { store, l1, l2 } = tiers(options)
      for (const key of ['a', 'b', 'c']) await l2.set(key, entry(key))
      for (const key of ['a', 'b', 'c', 'a']) await store.get(key)
      expect(l1.peek('a')?.value).toBe(filled ? 'a' : undefined)
    }
  })

  it('with l1Admission: always, every L2 hit fills L1', async () => {
    const { store, l1, l2 } = setup({ l1Admission: 'always' })
    await l2.set('k', entry('v'))
    await store.get('k')
    expect(l1.peek('k')?.value).toBe('v')
  })

  it('a removal L2 could not apply hides the value L2 still holds from a key seen once', async () => {
    const l1 = new MemoryStore({ name: 'l1' })
    const l2 = new UnremovableL2()
    const store = new TieredStore({ l1, l2 })
    cleanups.push(() => store.close())
    await l2.inner.set('k', entry('old'))
    await store.delete('k') // L2 could not apply it: queued for replay
    expect((await l2.inner.get('k'))?.value).toBe('old')
    expect(await store.get('k')).toBeUndefined()
    expect(await store.getMany(['k'])).toEqual([undefined])
    expect(l1.peek('k')).toBeUndefined()
  })
})

/** A fenced L2 (as RedisStore is) whose removals never apply: they stay pending, queued for replay. */
class UnremovableL2 extends GatedStore implements CacheStore {
  prepare<T>(key: string, value: CacheEntry<T>): never {
    return { key, entry: value } as never
  }
  async write(prepared: { key: string; entry: CacheEntry }): Promise<'written'> {
    await this.inner.set(prepared.key, prepared.entry)
    return 'written'
  }
  async invalidate(_invalidation: StoreInvalidation): Promise<InvalidationOutcome> {
    return { applied: false, removed: 0 }
  }
  loadStart(): number {
    return Date.now() * 1000
  }
}

describe('admission options', () => {
  const l1 = () => new MemoryStore()
  const l2 = () => new MemoryStore({ name: 'l2' }) as CacheStore

  it.each([
    [{ l1Admission: 'sometimes' }, 'l1Admission', "must be 'always' or 'seen-twice'"],
    [{ l1AdmissionWindow: 0 }, 'l1AdmissionWindow', 'must be an integer from 1 to 1000000'],
    [{ l1AdmissionWindow: 2.5 }, 'l1AdmissionWindow', 'must be an integer from 1 to 1000000'],
    [{ l1AdmissionWindow: 2_000_000 }, 'l1AdmissionWindow', 'must be an integer from 1 to 1000000'],
    [
      { l1Admission: 'always', l1AdmissionWindow: 100 },
      'l1AdmissionWindow',
      "only used with l1Admission: 'seen-twice'",
    ],
    [{ l1LoadAdmission: 'later' }, 'l1LoadAdmission', "must be 'always' or 'seen-twice'"],
    [
      { l1Admission: 'always', l1LoadAdmission: 'seen-twice' },
      'l1LoadAdmission',
      "uses the doorkeeper of l1Admission: 'seen-twice'",
    ],
  ])('TieredStore refuses %j with a CacheOptionError naming the option', (options, option, message) => {
    let error: unknown
    try {
      new TieredStore({ l1: l1(), l2: l2(), ...(options as Partial<TieredStoreOptions>) })
    } catch (caught) {
      error = caught
    }
    expect(CacheError.is(error, CacheErrorCode.INVALID_OPTION)).toBe(true)
    expect(error).toMatchObject({ option, message: expect.stringContaining(message) })
  })

  it('the modes are exported as a const object', () => {
    expect(L1AdmissionMode).toEqual({ ALWAYS: 'always', SEEN_TWICE: 'seen-twice' })
  })

  it('createCache passes l1.admission and l1.admissionWindow to the TieredStore, not to the MemoryStore', async () => {
    const cache = createCache({
      redisUrl: server.url,
      prefix: `adm${Date.now()}:`,
      l1: { admission: 'always', maxEntries: 100 },
    })
    cleanups.push(() => cache.close())
    const store = cache.store as TieredStore
    const l2 = store.l2 as RedisStore
    expect(await store.ready(5000)).toBe(true) // the bus's first connect purges L1 (and fences fills)
    await l2.set('k', entry('v'))
    expect(await cache.get('k')).toBe('v')
    expect((store.l1 as MemoryStore).peek('k')?.value).toBe('v')
    expect(() => createCache({ redisUrl: server.url, l1: { admission: 'never' as never } })).toThrow(
      /createCache: option "l1.admission" must be 'always' or 'seen-twice'/,
    )
    // Memory only: accepted (the same configuration runs with and without Redis) and unused.
    const memoryOnly = createCache({ l1: { admission: 'seen-twice', admissionWindow: 5 } })
    cleanups.push(() => memoryOnly.close())
    await memoryOnly.set('m', 1)
    expect(await memoryOnly.get('m')).toBe(1)
  })
})

describe("l1LoadAdmission: 'seen-twice'", () => {
  /** createCache over the file's Redis with loader results admitted on a second sighting. */
  async function loadAdmitting() {
    const cache = createCache({
      redisUrl: server.url,
      prefix: `load${Date.now()}${Math.random().toString(36).slice(2, 6)}:`,
      l1: { loadAdmission: 'seen-twice' },
    })
    cleanups.push(() => cache.close())
    const store = cache.store as TieredStore
    expect(await store.ready(5000)).toBe(true) // the bus's first connect purges L1
    return { cache, l1: store.l1 as MemoryStore, l2: store.l2 as RedisStore }
  }

  it('a key computed for the first time goes to Redis only; its next read fills L1', async () => {
    const { cache, l1, l2 } = await loadAdmitting()
    expect(await cache.getOrSet('k', () => ({ n: 1 }))).toEqual({ n: 1 })
    expect(l1.peek('k')).toBeUndefined()
    expect((await l2.get('k'))?.value).toEqual({ n: 1 })
    expect(await cache.get('k')).toEqual({ n: 1 }) // seen before: this L2 hit fills L1
    expect(l1.peek('k')?.value).toEqual({ n: 1 })
    // A key the doorkeeper has seen takes its next load into L1 at once.
    await cache.delete('k')
    expect(await cache.getOrSet('k', () => ({ n: 2 }))).toEqual({ n: 2 })
    expect(l1.peek('k')?.value).toEqual({ n: 2 })
  })

  it("an unadmitted load takes this pod's older copy out of L1 with it", async () => {
    const { cache, l1 } = await loadAdmitting()
    await cache.set('mine', 'old') // a pod's own set goes into L1 without the doorkeeper seeing it
    expect(l1.peek('mine')?.value).toBe('old')
    // A load of the key (a refresh, say) that the doorkeeper does not admit.
    const store = cache.store as TieredStore
    const token = store.startLoad('mine')
    expect(await store.setLoaded('mine', createEntry('new', HOUR, 0, Date.now()), token)).toBe(true)
    expect(l1.peek('mine')).toBeUndefined()
    expect(await cache.get('mine')).toBe('new')
  })

  it('createCache names l1.loadAdmission in its errors', () => {
    expect(() =>
      createCache({ redisUrl: server.url, l1: { admission: 'always', loadAdmission: 'seen-twice' } }),
    ).toThrow(/createCache: option "l1.loadAdmission": 'seen-twice' uses the doorkeeper of l1.admission/)
  })
})
