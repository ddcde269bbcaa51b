import { afterEach, describe, expect, it, vi } from 'vitest'
import { Cache, CacheError, type CacheEventMap, CacheTimeoutError } from '../src/index.ts'
import { MapStore, manualClock, PeekableMapStore } from './fixtures/map-store.ts'

function setup(options: Partial<ConstructorParameters<typeof Cache>[0]> = {}) {
  const now = manualClock()
  const store = new MapStore(now)
  const cache = new Cache({ store, now, defaultTtl: '1m', ...options })
  return { now, store, cache }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('Cache get/set', () => {
  it('returns what was set until the TTL passes', async () => {
    const { cache, now } = setup()
    await cache.set('user:1', { name: 'Ada' }, { ttl: '10s' })
    expect(await cache.get('user:1')).toEqual({ name: 'Ada' })
    now.advance(9_999)
    expect(await cache.get('user:1')).toEqual({ name: 'Ada' })
    now.advance(1)
    expect(await cache.get('user:1')).toBeUndefined()
  })

  it('serves a graced value only with allowStale, and nothing past grace', async () => {
    const { cache, now } = setup()
    await cache.set('k', 1, { ttl: '10s', grace: '1m' })
    now.advance(10_000)
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.get('k', { allowStale: true })).toBe(1)
    now.advance(60_000)
    expect(await cache.get('k', { allowStale: true })).toBeUndefined()
  })

  it('rejects invalid keys before any I/O', async () => {
    const { cache, store } = setup()
    for (const call of [
      () => cache.get('a b'),
      () => cache.set('a b', 1),
      () => cache.delete('a/b'),
      () => cache.getOrSet('a b', () => 1),
      () => cache.getMany(['ok', 'not ok']),
      () => cache.invalidate('bad pattern'),
      () => cache.invalidateTags(['bad tag']),
    ]) {
      await expect(call()).rejects.toSatisfy(
        (e: unknown) => CacheError.is(e) && /not allowed/.test((e as Error).message),
      )
    }
    expect(store.calls).toBe(0)
  })

  it('rejects bad options and durations with a message naming them', async () => {
    const { cache } = setup()
    await expect(cache.set('k', 1, { ttl: '5 minutes' })).rejects.toThrow(
      /invalid duration for ttl: "5 minutes"/,
    )
    await expect(cache.set('k', 1, { tll: '5m' } as never)).rejects.toThrow(/unknown option "tll"/)
    expect(() => new Cache({ store: new MapStore(), defualtTtl: 1 } as never)).toThrow(
      /unknown option "defualtTtl"/,
    )
    expect(() => new Cache({} as never)).toThrow(/option "store" is required/)
    expect(() => new Cache({ store: new MapStore(), grace: -1 })).toThrow(/invalid duration for grace: -1/)
  })

  it('refuses an unserializable value and keeps the previous entry', async () => {
    const { cache } = setup()
    await cache.set('k', { ok: true })
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    await expect(cache.set('k', cyclic)).rejects.toMatchObject({ code: 'E_SERIALIZATION' })
    await expect(cache.set('k', { f: () => 1 })).rejects.toThrow(/property "f" is a function/)
    await expect(cache.set('k', 10n)).rejects.toThrow(/BigInt/)
    expect(await cache.get('k')).toEqual({ ok: true })
  })

  it('turns a failing store into misses and error events, never a rejected call', async () => {
    const { cache, store } = setup()
    const errors: CacheEventMap['error'][] = []
    cache.on('error', (e) => errors.push(e))
    store.failing = true
    expect(await cache.get('k')).toBeUndefined()
    await expect(cache.set('k', 1)).resolves.toBeUndefined()
    expect(await cache.delete('k')).toBe(false)
    expect(await cache.invalidate('k*')).toBe(0)
    expect(await cache.getOrSet('k', () => 'loaded')).toBe('loaded')
    expect(errors.map((e) => e.operation)).toEqual(['get', 'set', 'delete', 'invalidate', 'get', 'set'])
    expect(errors[0]!.tier).toBe('map')
    expect((await cache.stats()).errors).toBe(6)
  })

  it('getMany returns values in key order with misses as undefined', async () => {
    const { cache } = setup()
    await cache.set('a', 1)
    await cache.set('c', 3)
    expect(await cache.getMany(['a', 'b', 'c'])).toEqual([1, undefined, 3])
    const stats = await cache.stats()
    expect([stats.hits, stats.misses]).toEqual([2, 1])
  })
})

describe('Cache getOrSet', () => {
  it('runs the loader once for 1,000 concurrent callers on a cold key', async () => {
    const { cache, store } = setup()
    let calls = 0
    const loader = async () => {
      calls++
      await new Promise((r) => setTimeout(r, 5))
      return { rack: 1 }
    }
    const results = await Promise.all(Array.from({ length: 1000 }, () => cache.getOrSet('rack:1', loader)))
    expect(calls).toBe(1)
    expect(results.every((r) => r.rack === 1)).toBe(true)
    // One store read for the whole stampede, not a thousand.
    expect(store.calls).toBe(2) // one get, one set
    expect(await cache.get('rack:1')).toEqual({ rack: 1 })
  })

  it('shares a loader error with every concurrent caller and caches nothing', async () => {
    const { cache } = setup()
    let calls = 0
    const loader = async () => {
      calls++
      await new Promise((r) => setTimeout(r, 5))
      throw new Error('db down')
    }
    const results = await Promise.allSettled(Array.from({ length: 1000 }, () => cache.getOrSet('k', loader)))
    expect(calls).toBe(1)
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'db down')).toBe(
      true,
    )
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.getOrSet('k', () => 'second')).toBe('second')
    expect(calls).toBe(1)
  })

  it('serves the stale value within grace when the loader fails, and nothing past grace', async () => {
    const { cache, now } = setup({ grace: '1h' })
    await cache.set('k', 'old', { ttl: '1m' })
    now.advance(61_000)
    const hits: CacheEventMap['hit'][] = []
    cache.on('hit', (e) => hits.push(e))
    expect(await cache.getOrSet('k', () => Promise.reject(new Error('boom')))).toBe('old')
    expect(hits).toEqual([{ key: 'k', tier: 'map', stale: true }])
    now.advance(3_600_000)
    await expect(cache.getOrSet('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
  })

  it('serves stale after softTimeout and lets the loader finish in the background', async () => {
    vi.useFakeTimers()
    const { cache, now } = setup({ grace: '1h' })
    await cache.set('k', 'old', { ttl: '1m' })
    now.advance(61_000)
    let finish: (v: string) => void = () => {}
    let calls = 0
    const slow = () => {
      calls++
      return new Promise<string>((r) => {
        finish = r
      })
    }
    const pending = cache.getOrSet('k', slow, { softTimeout: 100 })
    await vi.advanceTimersByTimeAsync(100)
    expect(await pending).toBe('old')
    // A caller arriving while the background load runs gets stale too, without a second loader.
    const second = cache.getOrSet('k', slow, { softTimeout: 100 })
    await vi.advanceTimersByTimeAsync(100)
    expect(await second).toBe('old')
    expect(calls).toBe(1)
    finish('new')
    await vi.advanceTimersByTimeAsync(0)
    expect(await cache.get('k')).toBe('new')
  })

  it('fails with CacheTimeoutError after hardTimeout when there is nothing stale, and caches the late result', async () => {
    vi.useFakeTimers()
    const { cache } = setup()
    let finish: (v: string) => void = () => {}
    const pending = cache.getOrSet('k', () => new Promise<string>((r) => (finish = r)), { hardTimeout: '2s' })
    const assertion = expect(pending).rejects.toSatisfy(
      (e: unknown) =>
        e instanceof CacheTimeoutError &&
        CacheError.is(e, 'E_LOADER_TIMEOUT') &&
        /hardTimeout 2000 ms/.test(String(e)),
    )
    // The deadline fires at 2 s and decides one loop turn later (it lets I/O run first).
    await vi.advanceTimersByTimeAsync(2_000)
    await vi.advanceTimersToNextTimerAsync()
    await assertion
    finish('late')
    await vi.advanceTimersByTimeAsync(0)
    expect(await cache.get('k')).toBe('late')
    expect((await cache.stats()).loader.timeouts).toBe(1)
  })

  it('lets the loader set the TTL and tags, or decline to cache', async () => {
    const { cache, now } = setup()
    expect(
      await cache.getOrSet('a', (ctx) => {
        ctx.setTtl('5s')
        ctx.setTags(['t1'])
        return 'A'
      }),
    ).toBe('A')
    expect(
      await cache.getOrSet('b', (ctx) => {
        ctx.skipCache()
        return 'B'
      }),
    ).toBe('B')
    expect(await cache.get('b')).toBeUndefined()
    now.advance(4_999)
    expect(await cache.get('a')).toBe('A')
    expect(await cache.invalidateTags(['t1'])).toBe(1)
    expect(await cache.get('a')).toBeUndefined()
  })

  it('passes the stale value to the loader', async () => {
    const { cache, now } = setup({ grace: '1h' })
    await cache.set('n', 1, { ttl: '1s' })
    now.advance(2_000)
    expect(await cache.getOrSet<number>('n', (ctx) => (ctx.staleValue ?? 0) + 1)).toBe(2)
  })

  it('does not write a result whose key was invalidated while the loader ran', async () => {
    const { cache } = setup()
    let finish: (v: string) => void = () => {}
    const pending = cache.getOrSet('k', () => new Promise<string>((r) => (finish = r)))
    await new Promise((r) => setImmediate(r))
    await cache.delete('k')
    finish('computed-before-delete')
    expect(await pending).toBe('computed-before-delete')
    expect(await cache.get('k')).toBeUndefined()
  })

  it('does not write a loader result when another pod invalidated the key meanwhile', async () => {
    const { cache, store } = setup()
    let finish: (v: string) => void = () => {}
    const pending = cache.getOrSet('rack:1', () => new Promise<string>((r) => (finish = r)))
    await new Promise((r) => setImmediate(r))
    store.raise({ type: 'invalidate', kind: 'pattern', source: 'bus', pattern: 'rack:*' })
    finish('v')
    expect(await pending).toBe('v')
    expect(await cache.get('rack:1')).toBeUndefined()
  })

  it('rejects a softTimeout longer than the hardTimeout, and a non-function loader', async () => {
    const { cache } = setup()
    await expect(cache.getOrSet('k', () => 1, { softTimeout: '2s', hardTimeout: '1s' })).rejects.toThrow(
      /softTimeout \(2000 ms\) is longer than hardTimeout/,
    )
    await expect(cache.getOrSet('k', 'nope' as never)).rejects.toThrow(/loader must be a function/)
  })
})

describe('Cache wrap', () => {
  it('memoises by the key function and shares concurrent calls', async () => {
    const { cache } = setup()
    let calls = 0
    const lookup = cache.wrap(
      async (id: number, region: string) => {
        calls++
        return { id, region }
      },
      { key: (id, region) => `device:${id}:${region}`, ttl: '1m' },
    )
    const [a, b] = await Promise.all([lookup(1, 'eu'), lookup(1, 'eu')])
    expect(a).toEqual({ id: 1, region: 'eu' })
    expect(b).toEqual(a)
    await lookup(2, 'eu')
    await lookup(1, 'eu')
    expect(calls).toBe(2)
  })

  it('requires a key function', () => {
    const { cache } = setup()
    expect(() => cache.wrap(async () => 1, {} as never)).toThrow(/option "key" must be a function/)
  })
})

describe('Cache invalidation', () => {
  it('invalidate(pattern) removes matching keys and returns the count', async () => {
    const { cache } = setup()
    await cache.set('thermal:rack:1:a', 1)
    await cache.set('thermal:rack:1:b', 2)
    await cache.set('thermal:rack:2:a', 3)
    expect(await cache.invalidate('thermal:rack:1:*')).toBe(2)
    expect(await cache.get('thermal:rack:2:a')).toBe(3)
    expect(await cache.get('thermal:rack:1:a')).toBeUndefined()
  })

  it('emits invalidate events with kind and source, and counts calls', async () => {
    const { cache, store } = setup()
    const events: CacheEventMap['invalidate'][] = []
    cache.on('invalidate', (e) => events.push(e))
    await cache.set('a', 1, { tags: ['t'] })
    await cache.delete('a')
    await cache.invalidate('x*')
    await cache.invalidateTags(['t'])
    await cache.clear()
    store.raise({ type: 'invalidate', kind: 'key', source: 'bus', keys: ['a'] })
    expect(events.map((e) => `${e.kind}/${e.source}`)).toEqual([
      'key/local',
      'pattern/local',
      'tags/local',
      'clear/local',
      'key/bus',
    ])
  })
})

describe('Cache events', () => {
  it('reports hits with their tier, misses, sets and loader runs', async () => {
    const { cache } = setup()
    const seen: string[] = []
    cache.on('hit', (e) => seen.push(`hit:${e.key}:${e.tier}:${e.stale}`))
    cache.on('miss', (e) => seen.push(`miss:${e.key}`))
    cache.on('set', (e) => seen.push(`set:${e.key}:${e.ttlMs}`))
    cache.on('loader', (e) => seen.push(`loader:${e.key}:${e.ok}`))
    await cache.getOrSet('k', () => 1)
    await cache.get('k')
    expect(seen).toEqual(['miss:k', 'loader:k:true', 'set:k:60000', 'hit:k:map:false'])
  })

  it('keeps working when a listener throws, and reports it as a warning', async () => {
    const { cache } = setup()
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    cache.on('set', () => {
      throw new Error('listener bug')
    })
    await expect(cache.set('k', 1)).resolves.toBeUndefined()
    expect(await cache.get('k')).toBe(1)
    expect(warning).toHaveBeenCalledWith(expect.stringContaining('listener bug'), 'CacheListenerWarning')
    warning.mockRestore()
  })

  it('stops delivering after unsubscribe', async () => {
    const { cache } = setup()
    let n = 0
    const off = cache.on('miss', () => n++)
    await cache.get('a')
    off()
    await cache.get('b')
    expect(n).toBe(1)
  })

  it('relays breaker and bus events from the store', () => {
    const { cache, store } = setup()
    const seen: unknown[] = []
    cache.on('breaker', (e) => seen.push(e))
    cache.on('bus', (e) => seen.push(e))
    store.raise({ type: 'breaker', tier: 'redis', state: 'open', previous: 'closed' })
    store.raise({ type: 'bus', state: 'gap', reason: 'sequence 4 after 2' })
    expect(seen).toEqual([
      { tier: 'redis', state: 'open', previous: 'closed' },
      { state: 'gap', reason: 'sequence 4 after 2' },
    ])
  })
})

describe('Cache fast path (store with peek)', () => {
  it('serves hits from peek without touching the async store, and falls back on a miss', async () => {
    const store = new PeekableMapStore()
    const cache = new Cache({ store })
    await cache.set('k', 'v')
    const before = store.calls
    const hits: string[] = []
    cache.on('hit', (e) => hits.push(e.tier))
    expect(await cache.get('k')).toBe('v')
    expect(await cache.getOrSet('k', () => 'other')).toBe('v')
    expect(store.calls).toBe(before)
    expect(hits).toEqual(['hot', 'hot'])
    expect(await cache.get('missing')).toBeUndefined()
    expect(store.calls).toBe(before + 1)
  })

  it('still validates keys that miss the fast path', async () => {
    const cache = new Cache({ store: new PeekableMapStore() })
    await expect(cache.get('bad key')).rejects.toThrow(/character " " at 3/)
  })
})

describe('Cache stats and health', () => {
  it('computes hitRate as a ratio', async () => {
    const { cache } = setup()
    expect((await cache.stats()).hitRate).toBe(0)
    await cache.set('a', 1)
    await cache.get('a')
    await cache.get('a')
    await cache.get('a')
    await cache.get('b')
    const stats = await cache.stats()
    expect(stats).toMatchObject({ hits: 3, misses: 1, hitRate: 0.75, sets: 1, hitsByTier: { map: 3 } })
  })

  it('is up, degraded when only optional tiers are down, and down otherwise', async () => {
    const { cache, store } = setup()
    expect((await cache.health()).status).toBe('up')
    store.healthStatus = [
      { tier: 'memory', status: 'up' },
      { tier: 'redis', status: 'down', optional: true },
    ]
    expect((await cache.health()).status).toBe('degraded')
    store.healthStatus = [{ tier: 'redis', status: 'down' }]
    expect((await cache.health()).status).toBe('down')
  })

  it('rejects calls after close with E_CLOSED and reports down', async () => {
    const { cache } = setup()
    await cache.close()
    await expect(cache.get('k')).rejects.toMatchObject({ code: 'E_CLOSED' })
    await expect(cache.set('k', 1)).rejects.toMatchObject({ code: 'E_CLOSED' })
    expect((await cache.health()).status).toBe('down')
  })
})

describe('Cache operation timings', () => {
  it('names the tier that answered a read hit, and no tier for misses and writes', async () => {
    const { cache } = setup()
    const seen: CacheEventMap['operation'][] = []
    cache.on('operation', (e) => seen.push(e))
    await cache.set('k', 1)
    await cache.get('k')
    await cache.get('absent')
    await cache.getOrSet('k', () => 2)
    await cache.getOrSet('cold', () => 3)
    expect(seen.map((e) => `${e.operation}:${e.key}:${e.tier ?? '-'}`)).toEqual([
      'set:k:-',
      'get:k:map',
      'get:absent:-',
      'getOrSet:k:map',
      'getOrSet:cold:-',
      // set and getOrSet of a cold key write; the write itself is not a separate operation
    ])
    expect(seen.every((e) => e.durationMs >= 0)).toBe(true)
  })
})
