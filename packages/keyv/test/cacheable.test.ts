import { Cache } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { Cacheable } from 'cacheable'
import { afterAll, describe, expect, it } from 'vitest'
import { KeyvStrata } from '../src/index.ts'

// The README's migration from cacheable: KeyvStrata as the primary store, no secondary.
const strata = new Cache({ store: new MemoryStore() })
afterAll(() => strata.close())

describe('cacheable 2 with KeyvStrata as its primary store', () => {
  it('set, get, getOrSet, delete, clear', async () => {
    const cache = new Cacheable({ primary: new KeyvStrata(strata), namespace: 'shop', ttl: '1h' })
    await cache.set('price:rack-42', { price: 100 })
    expect(await cache.get('price:rack-42')).toEqual({ price: 100 })
    let loads = 0
    const load = async () => {
      loads++
      return 7
    }
    expect(await cache.getOrSet('stock:rack-42', load)).toBe(7)
    expect(await cache.getOrSet('stock:rack-42', load)).toBe(7)
    expect(loads).toBe(1)
    expect(await cache.delete('price:rack-42')).toBe(true)
    expect(await cache.get('price:rack-42')).toBeUndefined()
    await strata.set('app:user:1', 'strata')
    await cache.clear()
    expect(await cache.get('stock:rack-42')).toBeUndefined()
    expect(await strata.get('app:user:1')).toBe('strata')
  })
})
