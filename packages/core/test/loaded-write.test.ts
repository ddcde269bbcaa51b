import { describe, expect, it } from 'vitest'
import { Cache, type CacheEntry, type DistributedLock, type LoadToken, type LockLease } from '../src/index.ts'
import { MapStore } from './fixtures/map-store.ts'

/** A store that drops loader results whose load began before the last `change()`, like a fenced L2. */
class FencingStore extends MapStore {
  generation = 0
  readonly events: string[] = []
  lease: LockLease | undefined
  lastLease: LockLease | undefined

  change(): void {
    this.generation++
  }

  startLoad(key: string): LoadToken {
    this.events.push(`start:${key}`)
    return this.generation
  }

  async setLoaded<T>(
    key: string,
    entry: CacheEntry<T>,
    token: LoadToken,
    lease?: LockLease,
  ): Promise<boolean> {
    this.events.push(`loaded:${key}`)
    this.lastLease = lease
    if (token !== this.generation) return false
    await this.set(key, entry)
    return true
  }

  get lock(): DistributedLock | undefined {
    const lease = this.lease
    if (lease === undefined) return undefined
    return { acquire: async () => lease, waitFor: async () => undefined }
  }
}

describe('getOrSet writes a loader result through setLoaded', () => {
  it('takes the token before the loader runs and writes with it', async () => {
    const store = new FencingStore()
    const cache = new Cache({ store })
    let sets = 0
    cache.on('set', () => sets++)
    const value = await cache.getOrSet('k', () => {
      store.events.push('loader')
      return 'v'
    })
    expect(value).toBe('v')
    expect(store.events).toEqual(['start:k', 'loader', 'loaded:k'])
    expect((await cache.stats()).sets).toBe(1)
    expect(sets).toBe(1)
    expect(await cache.get('k')).toBe('v')
  })

  it('returns the value but counts no set when the store drops the result as too old', async () => {
    const store = new FencingStore()
    const cache = new Cache({ store })
    let sets = 0
    cache.on('set', () => sets++)
    const value = await cache.getOrSet('k', () => {
      store.change() // another process changed the data while the loader ran
      return 'old'
    })
    expect(value).toBe('old')
    expect(sets).toBe(0)
    expect((await cache.stats()).sets).toBe(0)
    expect(store.data.has('k')).toBe(false)
  })

  it('hands the lease to setLoaded and skips the isValid round trip when the lease has a fence', async () => {
    const store = new FencingStore()
    let validChecks = 0
    store.lease = {
      fence: { key: 'lock:k', token: 't1' },
      isValid: async () => {
        validChecks++
        return true
      },
      release: async () => {},
    }
    const cache = new Cache({ store })
    expect(await cache.getOrSet('k', () => 'v', { lock: true })).toBe('v')
    expect(store.lastLease?.fence).toEqual({ key: 'lock:k', token: 't1' })
    expect(validChecks).toBe(0)
  })

  it('still checks isValid for a lease without a fence', async () => {
    const store = new FencingStore()
    store.lease = { isValid: async () => false, release: async () => {} }
    const cache = new Cache({ store })
    expect(await cache.getOrSet('k', () => 'v', { lock: true })).toBe('v')
    expect(store.events).not.toContain('loaded:k')
  })
})
