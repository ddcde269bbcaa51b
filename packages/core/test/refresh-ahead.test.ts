import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  Cache,
  type CacheEntry,
  CacheError,
  type DistributedLock,
  type LoadToken,
  type LockLease,
} from '../src/index.ts'
import { MapStore } from './fixtures/map-store.ts'

/** A MapStore with an in-process `peek` (the L1 fast path), the fenced write path and an optional lock. */
class PeekStore extends MapStore {
  generation = 0
  loadedWrites = 0
  lockHolder: 'us' | 'other' | undefined

  peek<T>(key: string, at?: number): CacheEntry<T> | undefined {
    const raw = this.data.get(key)
    if (raw === undefined) return undefined
    const entry = JSON.parse(raw) as CacheEntry<T>
    return (at ?? Date.now()) < entry.staleUntil ? entry : undefined
  }

  startLoad(): LoadToken {
    return this.generation
  }

  async setLoaded<T>(key: string, entry: CacheEntry<T>, token: LoadToken): Promise<boolean> {
    this.loadedWrites++
    if (token !== this.generation) return false
    await this.set(key, entry)
    return true
  }

  get lock(): DistributedLock | undefined {
    const holder = this.lockHolder
    if (holder === undefined) return undefined
    const lease: LockLease = { isValid: async () => true, release: async () => {} }
    return {
      acquire: async () => (holder === 'us' ? lease : undefined),
      waitFor: async () => undefined,
    }
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10))

function setup(options: ConstructorParameters<typeof Cache>[0] extends infer O ? Partial<O> : never = {}) {
  let now = 1_000_000
  const store = new PeekStore(() => now)
  const cache = new Cache({ store, now: () => now, defaultTtl: 10_000, ...options })
  const refreshes: string[] = []
  cache.on('refresh', (e) => refreshes.push(e.key))
  let version = 0
  const loads: number[] = []
  const loader = async () => {
    version++
    loads.push(version)
    return `v${version}`
  }
  return {
    store,
    cache,
    refreshes,
    loads,
    loader,
    advance: (ms: number) => {
      now += ms
    },
  }
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('refresh-ahead', () => {
  it('true means a fixed 0.8 of the TTL', async () => {
    const { cache, loader, loads, advance } = setup({ refreshAhead: true })
    await cache.getOrSet('k', loader)
    advance(7_900)
    await cache.getOrSet('k', loader)
    await settle()
    expect(loads).toEqual([1])
    advance(200)
    await cache.getOrSet('k', loader)
    await settle()
    expect(loads).toEqual([1, 2])
  })

  it('off by default: a hit near expiry reloads nothing', async () => {
    const { cache, loader, loads, advance } = setup()
    expect(await cache.getOrSet('k', loader)).toBe('v1')
    advance(9_990)
    expect(await cache.getOrSet('k', loader)).toBe('v1')
    await settle()
    expect(loads).toEqual([1])
  })

  it('fraction: a hit past the share of the TTL gets the current value and starts one reload', async () => {
    const { cache, store, loader, loads, refreshes, advance } = setup({
      refreshAhead: { strategy: 'fraction', fraction: 0.5 },
    })
    expect(await cache.getOrSet('k', loader)).toBe('v1')
    advance(4_000)
    expect(await cache.getOrSet('k', loader)).toBe('v1')
    await settle()
    expect(loads).toEqual([1])
    advance(2_000) // 60% of the TTL
    const hits = await Promise.all([1, 2, 3].map(() => cache.getOrSet('k', loader)))
    expect(hits).toEqual(['v1', 'v1', 'v1']) // at once, the current value
    await settle()
    expect(loads).toEqual([1, 2]) // one reload for the three hits (single flight)
    expect(refreshes).toEqual(['k'])
    expect(store.loadedWrites).toBe(2) // written through setLoaded, like any load
    expect(await cache.getOrSet('k', loader)).toBe('v2')
    const stats = await cache.stats()
    expect(stats.loader.refreshes).toBe(1)
    expect(stats.loader.runs).toBe(2)
  })

  it('xfetch: reloads with probability exp(-remaining / (delta × beta))', async () => {
    const random = vi.spyOn(Math, 'random')
    // No load timed yet: delta is 5% of the 10 s TTL (500 ms), beta 2: reach 1 s.
    const { cache, loader, loads, advance } = setup({ refreshAhead: { beta: 2 } })
    await cache.set('k', 'v0')
    advance(5_000)
    random.mockReturnValue(0.01) // -ln(0.01) × 1000 ≈ 4605 ms < 5000 remaining: no reload
    expect(await cache.getOrSet('k', loader)).toBe('v0')
    await settle()
    expect(loads).toEqual([])
    advance(1_000) // 4000 remaining: now due
    expect(await cache.getOrSet('k', loader)).toBe('v0')
    await settle()
    expect(loads).toEqual([1])
    expect(random).toHaveBeenCalled()
  })

  it('xfetch draws nothing far from expiry', async () => {
    const random = vi.spyOn(Math, 'random')
    const { cache, loader } = setup({ refreshAhead: { strategy: 'xfetch' } })
    await cache.getOrSet('k', loader)
    await cache.getOrSet('k', loader)
    expect(random).not.toHaveBeenCalled()
  })

  it('a call can turn it on, tune it, or turn the Cache default off', async () => {
    const off = setup()
    await off.cache.getOrSet('k', off.loader)
    off.advance(9_000)
    await off.cache.getOrSet('k', off.loader, { refreshAhead: { fraction: 0.8 } })
    await settle()
    expect(off.loads).toEqual([1, 2])

    const on = setup({ refreshAhead: { fraction: 0.5 } })
    await on.cache.getOrSet('k', on.loader)
    on.advance(9_000)
    await on.cache.getOrSet('k', on.loader, { refreshAhead: false })
    await settle()
    expect(on.loads).toEqual([1])
  })

  it('works from a store read as from the L1 fast path', async () => {
    const { cache, store, loader, loads, advance } = setup({ refreshAhead: { fraction: 0.5 } })
    Object.assign(store, { peek: undefined }) // every hit is a store read now
    await cache.getOrSet('k', loader)
    advance(6_000)
    expect(await cache.getOrSet('k', loader)).toBe('v1')
    await settle()
    expect(loads).toEqual([1, 2])
  })

  it('a failed reload keeps the current value and is not retried for that entry', async () => {
    const { cache, advance } = setup({ refreshAhead: { fraction: 0.5 } })
    let calls = 0
    const failing = async () => {
      calls++
      if (calls > 1) throw new Error('db down')
      return 'good'
    }
    await cache.getOrSet('k', failing)
    advance(6_000)
    for (let i = 0; i < 3; i++) {
      expect(await cache.getOrSet('k', failing)).toBe('good')
      await settle()
    }
    expect(calls).toBe(2)
    const stats = await cache.stats()
    expect(stats.loader.errors).toBe(1)
    expect(stats.loader.refreshes).toBe(1)
    expect(await cache.get('k')).toBe('good')
  })

  it('a reload the store judges too old (the data changed meanwhile) is not written', async () => {
    const { cache, store, advance } = setup({ refreshAhead: { fraction: 0.5 } })
    await cache.getOrSet('k', async () => 'v1')
    advance(6_000)
    await cache.getOrSet('k', async () => {
      store.generation++
      return 'v2'
    })
    await settle()
    expect(await cache.get('k')).toBe('v1')
  })

  it('honours lock: another process holding it is already reloading; holding it, a newer entry stops ours', async () => {
    const { cache, store, loader, loads, advance } = setup({ refreshAhead: { fraction: 0.5 }, lock: true })
    await cache.getOrSet('k', loader)
    expect(loads).toEqual([1])
    store.lockHolder = 'other'
    advance(6_000)
    expect(await cache.getOrSet('k', loader)).toBe('v1')
    await settle()
    expect(loads).toEqual([1])
    store.lockHolder = 'us'
    expect(await cache.getOrSet('k', loader)).toBe('v1')
    await settle()
    expect(loads).toEqual([1, 2])
  })

  it('refuses a bad refreshAhead option', async () => {
    const bad = [{ fraction: 1.5 }, { beta: 0 }, { strategy: 'later' }, { other: 1 }, 'yes']
    for (const refreshAhead of bad)
      expect(() => new Cache({ store: new MapStore(), refreshAhead: refreshAhead as never })).toThrow(
        CacheError,
      )
    const cache = new Cache({ store: new MapStore() })
    await expect(cache.getOrSet('k', () => 1, { refreshAhead: { beta: -1 } })).rejects.toSatisfy((e) =>
      CacheError.is(e, 'E_INVALID_OPTION'),
    )
  })
})
