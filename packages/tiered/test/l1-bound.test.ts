// L1 never keeps an entry longer than its own bound (maxL1Ttl), whatever L2 says: an entry planted
// in Redis with a far staleUntil, or a long TTL of our own.
import { Cache, type CacheStore } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { afterEach, describe, expect, it } from 'vitest'
import { TieredStore } from '../src/tiered-store.ts'

const HOUR = 3_600_000
const CENTURY = 100 * 365 * 24 * HOUR
const START = Date.UTC(2026, 0, 1)
const stores: TieredStore[] = []
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()))
})

function setup(options: { maxL1Ttl?: string } = {}) {
  let now = START
  const clock = () => now
  const l1 = new MemoryStore({ name: 'l1', now: clock })
  const l2 = new MemoryStore({ name: 'l2', now: clock })
  // As a plain CacheStore: MemoryStore's private `prepare` is not L2Store's fenced write.
  const store = new TieredStore({ l1, l2: l2 as CacheStore, now: clock, l1Admission: 'always', ...options })
  stores.push(store)
  return { l1, l2, store, advance: (ms: number) => (now += ms), now: clock }
}

describe('maxL1Ttl', () => {
  it('cuts a planted L2 entry with a far staleUntil to an hour in L1 (the default); L2 keeps its own', async () => {
    const { l1, l2, store, advance, now } = setup()
    await l2.set('planted', {
      value: 'x',
      createdAt: now(),
      expiresAt: now() + CENTURY,
      staleUntil: now() + CENTURY,
    })
    expect((await store.get('planted'))?.value).toBe('x')
    expect(l1.peek('planted')).toMatchObject({ expiresAt: START + HOUR, staleUntil: START + HOUR })
    expect(l2.peek('planted')).toMatchObject({ staleUntil: START + CENTURY })
    advance(HOUR)
    expect(l1.peek('planted')).toBeUndefined()
    // Read again from L2 (which still says a century), and bounded again from now.
    expect((await store.get('planted'))?.value).toBe('x')
    expect(l1.peek('planted')).toMatchObject({ staleUntil: START + 2 * HOUR })
  })

  it('bounds what this pod writes too, without touching L2; shorter entries are kept as they are', async () => {
    const { l1, l2, store, now } = setup({ maxL1Ttl: '10m' })
    const cache = new Cache({ store, now })
    await cache.set('long', 'v', { ttl: '1d', grace: '1d' })
    expect(l1.peek('long')).toMatchObject({ expiresAt: START + 600_000, staleUntil: START + 600_000 })
    expect(l2.peek('long')).toMatchObject({ expiresAt: START + 24 * HOUR, staleUntil: START + 48 * HOUR })
    await cache.set('short', 'v', { ttl: '1m', grace: '2m' })
    expect(l1.peek('short')).toMatchObject({ expiresAt: START + 60_000, staleUntil: START + 180_000 })
  })

  it('refuses a bound of 0 or one that does not parse', () => {
    expect(() => setup({ maxL1Ttl: '0ms' })).toThrow(/option "maxL1Ttl" must be longer than 0/)
    expect(() => setup({ maxL1Ttl: 'soon' })).toThrow(/maxL1Ttl/)
  })
})
