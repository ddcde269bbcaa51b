import { Cache } from '@strata-cache/core'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { type FaultProxy, startFaultProxy, until } from '@strata-cache/test-suite/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../src/index.ts'
import {
  PREVIOUS_DELETE_SCRIPT,
  PREVIOUS_FENCE_SCRIPT,
  PREVIOUS_WRITE_SCRIPT,
} from './fixtures/previous-fence-scripts.ts'
import { entry, TEST_COMMAND_TIMEOUT, uniquePrefix } from './helpers.ts'

// L2 never goes back in time: late sets are dropped, fills that began before a change are dropped.
let server: RedisServer
let raw: Redis
const stores: RedisStore[] = []

function store(
  options: Partial<ConstructorParameters<typeof RedisStore>[0]> & { prefix: string },
): RedisStore {
  const s = new RedisStore({ url: server.url, commandTimeout: TEST_COMMAND_TIMEOUT, ...options })
  stores.push(s)
  return s
}

beforeAll(async () => {
  server = await startRedisServer()
  raw = new Redis(server.url)
})

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()))
  raw?.disconnect()
  await server?.stop()
})

describe('fills (a loader result) are fenced by every later change', () => {
  it('writes a fill when nothing changed since its loader began', async () => {
    const s = store({ prefix: uniquePrefix('fill') })
    const since = s.loadStart()
    expect(await s.write(s.prepare('k', entry('loaded')), { fillSince: since })).toBe('written')
    expect((await s.get('k'))?.value).toBe('loaded')
  })

  it.each([
    ['a delete of the key', (s: RedisStore) => s.delete('k')],
    ['a set of the key', (s: RedisStore) => s.set('k', entry('newer'))],
    ['a matching pattern', (s: RedisStore) => s.deletePattern('k*')],
    ['one of its tags', (s: RedisStore) => s.deleteTags(['t1'])],
    ['a clear', (s: RedisStore) => s.clear()],
  ])('drops a fill whose loader began before %s', async (_, change) => {
    const prefix = uniquePrefix('fence')
    const a = store({ prefix })
    const b = store({ prefix })
    await a.set('k', entry('old', { tags: ['t1'] }))
    const since = a.loadStart() // the loader starts and reads the old data
    await change(b) // another pod changes the data and invalidates
    const after = await b.get('k')
    const outcome = await a.write(a.prepare('k', entry('stale-load', { tags: ['t1'] })), { fillSince: since })
    expect(outcome).toBe('superseded')
    expect((await a.get('k'))?.value).toBe(after?.value)
    expect((await a.get('k'))?.value).not.toBe('stale-load')
  })

  it('keeps a fill whose tags and key were not touched by a pattern that does not match', async () => {
    const prefix = uniquePrefix('nomatch')
    const s = store({ prefix })
    const since = s.loadStart()
    await s.deletePattern('other:*')
    await s.deleteTags(['unrelated'])
    expect(await s.write(s.prepare('k', entry('v', { tags: ['t1'] })), { fillSince: since })).toBe('written')
  })

  it('drops a fill whose loader ran longer than fenceWindow (its fences may have expired)', async () => {
    const s = store({ prefix: uniquePrefix('window'), fenceWindow: '1s' })
    const since = s.loadStart() - 2_000_000
    expect(await s.write(s.prepare('k', entry('v')), { fillSince: since })).toBe('superseded')
    expect(await s.get('k')).toBeUndefined()
  })

  it('applies a fenced write only while its lock lease is held', async () => {
    const prefix = uniquePrefix('lease')
    const s = store({ prefix })
    await raw.set(`${prefix}#lock:k`, 'mine', 'PX', 10_000)
    const lease = { key: `${prefix}#lock:k`, token: 'mine' }
    expect(await s.write(s.prepare('k', entry('v1')), { fillSince: s.loadStart(), lease })).toBe('written')
    const tagged = entry('v2', { tags: ['t1', 't2'] })
    expect(await s.write(s.prepare('k', tagged), { fillSince: s.loadStart(), lease })).toBe('written')
    expect(await s.write(s.prepare('k', entry('v3', { tags: ['t1'] })), { lease })).toBe('written')
    await raw.set(`${prefix}#lock:k`, 'someone-else', 'PX', 10_000)
    expect(await s.write(s.prepare('k', entry('v4')), { fillSince: s.loadStart(), lease })).toBe('lease-lost')
    expect(await s.write(s.prepare('k', tagged), { fillSince: s.loadStart(), lease })).toBe('lease-lost')
    expect(await s.write(s.prepare('k', entry('v5')), { lease })).toBe('lease-lost')
    expect((await s.get('k'))?.value).toBe('v3')
    // The leased writes indexed their tags under the cache key, as any write does.
    expect(await raw.smembers(`${prefix}#tag:t2`)).toEqual(['k'])
    expect(await s.deleteTags(['t1'])).toBe(1)
  })

  it('runs its scripts by EVAL when Redis lost them (SCRIPT FLUSH, a restarted server)', async () => {
    const s = store({ prefix: uniquePrefix('noscript') })
    await s.set('warm', entry(0))
    await raw.script('FLUSH')
    expect(await s.write(s.prepare('k', entry('v')))).toBe('written')
    await raw.script('FLUSH')
    expect(await s.write(s.prepare('k', entry('w')), { fillSince: s.loadStart() })).toBe('written')
    expect((await s.get('k'))?.value).toBe('w')
  })
})

describe('a Cache over RedisStore alone', () => {
  it("drops a getOrSet result whose loader read data before another process's delete", async () => {
    const prefix = uniquePrefix('cache')
    const cache = new Cache({ store: store({ prefix }) })
    const other = store({ prefix })
    const value = await cache.getOrSet('k', async () => {
      await other.delete('k') // another process changes the data and invalidates while we load
      return 'read-before-the-change'
    })
    expect(value).toBe('read-before-the-change')
    expect(await other.get('k')).toBeUndefined()
    // This process heard back from its own delete before the next load began: it never counts as after it.
    expect(await cache.getOrSet('k', () => 'fresh')).toBe('fresh') // the next load is written
    expect((await other.get('k'))?.value).toBe('fresh')
  })
})

describe('a set that reaches Redis late', () => {
  let proxy: FaultProxy

  beforeAll(async () => {
    const port = Number(new URL(server.url).port)
    proxy = await startFaultProxy({ host: '127.0.0.1', port })
  })

  afterAll(async () => {
    await proxy?.close()
  })

  /** A store through the proxy (100 ms deadline, breaker kept closed) and one direct, both holding 'v1' for 'k'. */
  async function cutAndDirect(label: string): Promise<{ cut: RedisStore; direct: RedisStore }> {
    const prefix = uniquePrefix(label)
    const cut = new RedisStore({
      url: proxy.url,
      prefix,
      commandTimeout: 100,
      breaker: { failureThreshold: 100 },
    })
    stores.push(cut)
    const direct = store({ prefix })
    expect(await cut.ready(5000)).toBe(true)
    await cut.set('k', entry('v1'))
    return { cut, direct }
  }

  /** Resolves once the proxy delivers again (the held bytes reached Redis before this PING's answer). */
  async function healed(cut: RedisStore): Promise<void> {
    await until(
      async () => (await cut.withClient((c) => c.ping()).catch(() => '')) === 'PONG',
      5000,
      'proxy heals',
    )
  }

  it('is dropped when another pod wrote meanwhile: held bytes delivered after 1 s do not overwrite', async () => {
    const { cut, direct } = await cutAndDirect('late')
    expect((await direct.get('k'))?.value).toBe('v1')

    proxy.hold(1000)
    const outcome = await cut.write(cut.prepare('k', entry('v2-late')))
    expect(outcome).toBe('failed') // the caller gave up after its 100 ms deadline
    await direct.set('k', entry('v3-newer'))
    // Once the held bytes reach Redis, the late SET must not replace v3.
    await healed(cut)
    expect((await direct.get('k'))?.value).toBe('v3-newer')
  })

  it('is dropped even with nothing newer there: a late set never lands after its caller was told it failed', async () => {
    const { cut, direct } = await cutAndDirect('late2')
    proxy.hold(800)
    expect(await cut.write(cut.prepare('k', entry('v2-late')))).toBe('failed')
    await healed(cut)
    expect((await direct.get('k'))?.value).toBe('v1')
  })
})

describe('invalidate', () => {
  it('reports whether Redis applied it, and how many entries went', async () => {
    const prefix = uniquePrefix('inv')
    const s = store({ prefix })
    await s.setMany([
      ['a:1', entry(1, { tags: ['x'] })],
      ['a:2', entry(2)],
      ['b:1', entry(3)],
    ])
    expect(await s.invalidate({ kind: 'key', keys: ['b:1', 'nope'] })).toEqual({ applied: true, removed: 1 })
    expect(await s.invalidate({ kind: 'tags', tags: ['x'] })).toEqual({ applied: true, removed: 1 })
    expect(await s.invalidate({ kind: 'pattern', pattern: 'a:*' })).toEqual({ applied: true, removed: 1 })
    expect(await s.invalidate({ kind: 'clear' })).toEqual({ applied: true, removed: 0 })
  })

  it('resolves applied: false while Redis is unreachable (the caller replays it later)', async () => {
    const prefix = uniquePrefix('down')
    const s = new RedisStore({ url: 'redis://127.0.0.1:1', prefix, connectTimeout: 200 })
    stores.push(s)
    expect(await s.invalidate({ kind: 'key', keys: ['k'] })).toEqual({ applied: false, removed: 0 })
    expect(await s.invalidate({ kind: 'clear' })).toEqual({ applied: false, removed: 0 })
    expect(await s.write(s.prepare('k', entry('v')))).toBe('failed')
  })

  it("never counts this process's own earlier change as after its next load, however close", async () => {
    const s = store({ prefix: uniquePrefix('own') })
    for (let i = 0; i < 20; i++) {
      await s.delete('k') // a fence, this very microsecond
      expect(await s.write(s.prepare('k', entry(i)), { fillSince: s.loadStart() })).toBe('written')
      await s.deleteTags(['t'])
      expect(await s.write(s.prepare('k', entry(i, { tags: ['t'] })), { fillSince: s.loadStart() })).toBe(
        'written',
      )
    }
  })

  it('estimates Redis clock within a few ms once it has sampled it', async () => {
    const s = store({ prefix: uniquePrefix('clock') })
    await s.set('k', entry('v')) // every write's reply samples the clock
    const [seconds, micros] = await raw.time()
    const redisMs = Number(seconds) * 1000 + Number(micros) / 1000
    expect(Math.abs(s.redisNow() - redisMs)).toBeLessThan(50)
  })
})

// A rolling deploy runs the previous release's scripts next to these on one Redis: the fence keys
// and their values did not change, so neither release misses a fence the other leaves.
/** A pod of the previous release, as the raw scripts it ran (no lease, fenceWindow 60 s). */
function previousPod(prefix: string) {
  const f = `${prefix}#f`
  const write = (mode: 's' | 'f', key: string, text: string, tags: string[], since: number) =>
    raw.eval(
      PREVIOUS_WRITE_SCRIPT,
      4 + 2 * tags.length,
      prefix + key,
      `${f}:${key}`,
      `${f}c`,
      `${f}p`,
      ...tags.map((tag) => `${prefix}#tag:${tag}`),
      ...tags.map((tag) => `${f}t:${tag}`),
      mode,
      text,
      60_000,
      since,
      mode === 's' ? (Date.now() + 60_000) * 1000 : 0,
      60_000,
      tags.length,
      '',
      key,
    ) as Promise<[number, number]>
  return {
    set: (key: string, text: string, tags: string[] = []) => write('s', key, text, tags, 0),
    fill: (key: string, text: string, since: number, tags: string[] = []) =>
      write('f', key, text, tags, since),
    delete: (key: string) => raw.eval(PREVIOUS_DELETE_SCRIPT, 2, prefix + key, `${f}:${key}`, 60_000),
    fencePattern: (pattern: string) =>
      raw.eval(PREVIOUS_FENCE_SCRIPT, 2, `${f}p`, `${f}c`, 'p', 60_000, pattern, 1000),
    fenceTags: (tags: string[]) =>
      raw.eval(PREVIOUS_FENCE_SCRIPT, tags.length, ...tags.map((tag) => `${f}t:${tag}`), 't', 60_000),
    fenceClear: () => raw.eval(PREVIOUS_FENCE_SCRIPT, 1, `${f}c`, 'c', 60_000),
  }
}

type PreviousPod = ReturnType<typeof previousPod>

describe('a rolling deploy: pods of the previous release and of this one on one Redis', () => {
  it.each([
    ['a set', (old: PreviousPod) => old.set('k', 'newer')],
    ['a delete', (old: PreviousPod) => old.delete('k')],
    ['a matching pattern', (old: PreviousPod) => old.fencePattern('k*')],
    ['one of its tags', (old: PreviousPod) => old.fenceTags(['t1'])],
    ['a clear', (old: PreviousPod) => old.fenceClear()],
  ])('this release drops a fill whose loader began before %s of the previous one', async (_, change) => {
    const prefix = uniquePrefix('prev')
    const s = store({ prefix })
    await s.set('k', entry('old', { tags: ['t1'] }))
    const since = s.loadStart()
    await change(previousPod(prefix))
    expect(await s.write(s.prepare('k', entry('stale', { tags: ['t1'] })), { fillSince: since })).toBe(
      'superseded',
    )
  })

  it.each([
    ['a set', (s: RedisStore) => s.set('k', entry('newer'))],
    ['a delete', (s: RedisStore) => s.delete('k')],
    ['a matching pattern', (s: RedisStore) => s.deletePattern('k*')],
    ['one of its tags', (s: RedisStore) => s.deleteTags(['t1'])],
    ['a clear', (s: RedisStore) => s.clear()],
  ])('the previous release drops a fill whose loader began before %s of this one', async (_, change) => {
    const prefix = uniquePrefix('next')
    const s = store({ prefix })
    const old = previousPod(prefix)
    await old.set('k', 'old', ['t1'])
    const since = s.loadStart()
    await change(s)
    const [code] = await old.fill('k', 'stale', since, ['t1'])
    expect(code).toBe(0) // superseded
    expect(await raw.get(`${prefix}k`)).not.toBe('stale')
  })

  it('keeps what neither release fenced: fills of both are written', async () => {
    const prefix = uniquePrefix('both')
    const s = store({ prefix })
    const old = previousPod(prefix)
    const since = s.loadStart()
    await old.fencePattern('other:*')
    await s.deleteTags(['unrelated'])
    expect(await s.write(s.prepare('k', entry('v', { tags: ['t1'] })), { fillSince: since })).toBe('written')
    expect((await old.fill('j', 'w', since, ['t1']))[0]).toBe(1)
    // Both indexed their tags under the cache key: one deleteTags finds both entries.
    expect(await s.deleteTags(['t1'])).toBe(2)
  })
})
