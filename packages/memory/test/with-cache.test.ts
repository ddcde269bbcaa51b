import { Cache, type CacheEventMap } from '@strata-cache/core'
import { createManualClock } from '@strata-cache/test-suite'
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../src/index.ts'
import { START } from './helpers.ts'

function setup() {
  const clock = createManualClock(START)
  const store = new MemoryStore({ now: clock.now, maxEntries: 100 })
  const cache = new Cache({ store, now: clock.now, defaultTtl: '10s', grace: '1m' })
  return { clock, store, cache }
}

describe('Cache over MemoryStore', () => {
  it('serves hits from the peek fast path with tier "memory"', async () => {
    const { cache, store } = setup()
    const hits: CacheEventMap['hit'][] = []
    cache.on('hit', (event) => hits.push(event))
    await cache.set('device:info:1:abc', { name: 'probe' })
    expect(await cache.get('device:info:1:abc')).toEqual({ name: 'probe' })
    expect(await cache.getOrSet('device:info:1:abc', () => ({ name: 'loader must not run' }))).toEqual({
      name: 'probe',
    })
    expect(hits).toEqual([
      { key: 'device:info:1:abc', tier: 'memory', stale: false },
      { key: 'device:info:1:abc', tier: 'memory', stale: false },
    ])
    expect((await store.stats())[0]?.hits).toBe(2)
  })

  it('hands out frozen values: a caller mutating its result cannot corrupt the next caller', async () => {
    const { cache } = setup()
    await cache.set('k:1', { roles: ['user'] })
    const first = await cache.get<{ roles: string[] }>('k:1')
    expect(() => first!.roles.push('admin')).toThrow(TypeError)
    expect(await cache.get('k:1')).toEqual({ roles: ['user'] })
  })

  it('serves the stale value within grace when the loader fails, and nothing past grace', async () => {
    const { cache, clock } = setup()
    await cache.set('k:1', 'old')
    clock.advance(10_000)
    expect(await cache.get('k:1')).toBeUndefined()
    expect(
      await cache.getOrSet('k:1', () => {
        throw new Error('backend down')
      }),
    ).toBe('old')
    clock.advance(60_000)
    await expect(
      cache.getOrSet('k:1', () => {
        throw new Error('backend down')
      }),
    ).rejects.toThrow('backend down')
  })

  it('invalidates by tag and by pattern with counts', async () => {
    const { cache } = setup()
    await cache.set('thermal:rack:1:a', 1, { tags: ['rack:1'] })
    await cache.set('thermal:rack:1:b', 2, { tags: ['rack:1'] })
    await cache.set('thermal:rack:2:a', 3)
    expect(await cache.invalidateTags(['rack:1'])).toBe(2)
    expect(await cache.invalidate('thermal:rack:*')).toBe(1)
    expect(await cache.get('thermal:rack:2:a')).toBeUndefined()
  })

  it('counts one store lookup per Cache read, though a miss falls back from peek to get', async () => {
    const { cache, store, clock } = setup()
    expect(await cache.get('k:1')).toBeUndefined()
    expect(await cache.getOrSet('k:1', () => 'loaded')).toBe('loaded')
    expect(await cache.get('k:1')).toBe('loaded')
    clock.advance(10_000) // past the TTL, within grace: peek finds it stale, get finds it again
    expect(await cache.get('k:1', { allowStale: true })).toBe('loaded')
    expect(await store.stats()).toEqual([expect.objectContaining({ hits: 2, misses: 2 })])
    expect(await cache.get('k:2')).toBeUndefined()
    expect(await cache.get('k:2')).toBeUndefined()
    expect((await store.stats())[0]).toMatchObject({ hits: 2, misses: 4 })
  })
})
