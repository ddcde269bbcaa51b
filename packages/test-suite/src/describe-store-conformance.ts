import { randomBytes } from 'node:crypto'
import {
  assertKnownOptions,
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  CacheOptionError,
  type CacheStore,
} from '@strata-cache/core'
import { afterEach, beforeEach, describe, expect, it, type TestContext, vi } from 'vitest'
import { createManualClock, type ManualClock } from './manual-clock.ts'
import { sampleValues, unserializableValues } from './sample-values.ts'

/** What the suite hands `createStore` for each store it opens. */
export interface StoreFactoryContext {
  /** Fresh per test (`t<random>:`), so one shared backend needs no flush between tests. */
  prefix: string
  /** The suite's clock (epoch ms). Stores declaring `injectableClock` must read time only from it. */
  now: () => number
}

/** What a store can do; tests that need a capability the store lacks are skipped, saying why. */
export interface StoreCapabilities {
  /** Two instances with the same prefix see each other's entries (Redis); prefixes isolate. @default false */
  sharedAcrossInstances?: boolean
  /** Entries written before `close()` are read by a new instance with the same prefix. @default false */
  survivesRestart?: boolean
  /** Freshness is decided only by the `now` passed to createStore, so advancing it expires entries. @default false */
  injectableClock?: boolean
  /** Operations after `close()` reject with E_CLOSED (otherwise the store documents what they do). @default true */
  rejectsAfterClose?: boolean
  /** Values go through a JSON serializer, so a function, cycle, BigInt or Map is refused. @default true */
  serializesValues?: boolean
}

/** Options of {@link describeStoreConformance}. */
export interface StoreConformanceOptions {
  /** Shown in the describe block: `<name> store conformance`. */
  name: string
  /** Opens a store; the suite closes every store it opens. May return a Promise. */
  createStore: (context: StoreFactoryContext) => CacheStore | Promise<CacheStore>
  /** See {@link StoreCapabilities}. */
  capabilities?: StoreCapabilities
}

const KNOWN_OPTIONS = ['name', 'createStore', 'capabilities'] as const
const KNOWN_CAPABILITIES = [
  'sharedAcrossInstances',
  'survivesRestart',
  'injectableClock',
  'rejectsAfterClose',
  'serializesValues',
] as const

const MINUTE = 60_000

/**
 * Registers vitest blocks that check any CacheStore against the contract: round trips, freshness
 * and grace, pattern and tag deletes, batches, prefix isolation, refusal of bad values, close, and
 * stats/health. Call it at the top level of a test file.
 */
export function describeStoreConformance(options: StoreConformanceOptions): void {
  assertKnownOptions('describeStoreConformance', options, KNOWN_OPTIONS)
  if (typeof options.name !== 'string' || options.name === '') {
    throw new CacheOptionError('describeStoreConformance: name must be a non-empty string', {
      option: 'name',
    })
  }
  if (typeof options.createStore !== 'function') {
    throw new CacheOptionError('describeStoreConformance: createStore must be a function', {
      option: 'createStore',
    })
  }
  assertKnownOptions('describeStoreConformance capabilities', options.capabilities, KNOWN_CAPABILITIES)
  const caps: Required<StoreCapabilities> = {
    sharedAcrossInstances: false,
    survivesRestart: false,
    injectableClock: false,
    rejectsAfterClose: true,
    serializesValues: true,
    ...options.capabilities,
  }

  describe(`${options.name} store conformance`, () => {
    let prefix = ''
    let clock: ManualClock = createManualClock(0)
    let opened: CacheStore[] = []

    beforeEach(() => {
      prefix = freshPrefix()
      clock = createManualClock(Date.now())
      opened = []
    })

    afterEach(async () => {
      // Stores a test already closed may reject a second close; that is the test's business.
      await Promise.allSettled(opened.map((store) => store.close()))
    })

    /** Opens a store on this test's prefix (or another), tracked for closing. */
    async function open(storePrefix = prefix): Promise<CacheStore> {
      const now = caps.injectableClock ? clock.now : () => Date.now()
      const store = await options.createStore({ prefix: storePrefix, now })
      opened.push(store)
      return store
    }

    /** The time the store sees. */
    function now(): number {
      return caps.injectableClock ? clock.now() : Date.now()
    }

    /** An entry written now: fresh for `ttl`, then stale for `grace`. */
    function entry<T>(
      value: T,
      options: { ttl?: number; grace?: number; tags?: string[] } = {},
    ): CacheEntry<T> {
      const at = now()
      const expiresAt = at + (options.ttl ?? 10 * MINUTE)
      const made: CacheEntry<T> = {
        value,
        createdAt: at,
        expiresAt,
        staleUntil: expiresAt + (options.grace ?? 0),
      }
      if (options.tags !== undefined) made.tags = options.tags
      return made
    }

    function needs(
      context: TestContext,
      capability: keyof StoreCapabilities,
      wanted: boolean,
      why: string,
    ): void {
      if (caps[capability] !== wanted)
        context.skip(`store declares ${capability}: ${caps[capability]}; ${why}`)
    }

    describe('values', () => {
      it.each(sampleValues)('round-trips %s', async (_label, value) => {
        const store = await open()
        await store.set('value:1', entry(value))
        const got = await store.get('value:1')
        expect(got).toBeDefined()
        expect(got!.value).toEqual(value)
      })

      it('returns undefined for a key never written', async () => {
        const store = await open()
        expect(await store.get('missing:1')).toBeUndefined()
      })

      it('keeps createdAt, expiresAt, staleUntil and tags', async () => {
        const store = await open()
        const at = now()
        const written: CacheEntry<string> = {
          value: 'v',
          createdAt: at - 5_000,
          expiresAt: at + MINUTE,
          staleUntil: at + 2 * MINUTE,
          tags: ['rack:1', 'site:zrh'],
        }
        await store.set('timing:1', written)
        const got = await store.get<string>('timing:1')
        expect(got).toMatchObject({
          createdAt: at - 5_000,
          expiresAt: at + MINUTE,
          staleUntil: at + 2 * MINUTE,
        })
        expect([...(got?.tags ?? [])].sort()).toEqual(['rack:1', 'site:zrh'])
        if (got?.tier !== undefined) expect(typeof got.tier).toBe('string')
      })

      it('returns no tags for an entry written without tags', async () => {
        const store = await open()
        await store.set('untagged:1', entry('v'))
        const got = await store.get('untagged:1')
        expect(got?.tags ?? []).toEqual([])
      })

      it('overwrites a key with the new value and timing', async () => {
        const store = await open()
        await store.set('over:1', entry({ v: 1 }, { ttl: MINUTE }))
        const second = entry({ v: 2 }, { ttl: 2 * MINUTE, grace: MINUTE })
        await store.set('over:1', second)
        const got = await store.get('over:1')
        expect(got?.value).toEqual({ v: 2 })
        expect(got).toMatchObject({ expiresAt: second.expiresAt, staleUntil: second.staleUntil })
      })

      it('delete resolves true for a present key, then false, and the key is gone', async () => {
        const store = await open()
        await store.set('del:1', entry('v'))
        await store.set('del:2', entry('w'))
        expect(await store.delete('del:1')).toBe(true)
        expect(await store.get('del:1')).toBeUndefined()
        expect(await store.delete('del:1')).toBe(false)
        expect(await store.delete('never:1')).toBe(false)
        expect((await store.get('del:2'))?.value).toBe('w')
      })

      it.for(unserializableValues())(
        'refuses %s with E_SERIALIZATION and keeps the previous entry',
        async ([_label, bad], context) => {
          needs(context, 'serializesValues', true, 'the store keeps values as given and documents it')
          const store = await open()
          await store.set('bad:1', entry({ good: true }))
          const error = await rejection(() => store.set('bad:1', entry(bad)))
          expect(CacheError.is(error, CacheErrorCode.SERIALIZATION), `got ${String(error)}`).toBe(true)
          expect((await store.get('bad:1'))?.value).toEqual({ good: true })
        },
      )

      it('isolates stored values from callers: changing a value given or read back changes nothing stored', async (context) => {
        needs(context, 'serializesValues', true, 'the store keeps values as given and documents it')
        const store = await open()
        const given = { name: 'Ada', roles: ['admin'], at: new Date('2024-01-01T00:00:00.000Z') }
        await store.set('iso:1', entry(given))
        given.name = 'Eve'
        given.roles.push('root')
        given.at.setUTCFullYear(1999)
        const read = (await store.get<typeof given>('iso:1'))!.value
        // A store may hand out frozen values (then these writes throw) or fresh copies.
        try {
          read.name = 'Mallory'
          read.roles.push('root')
          read.at.setUTCFullYear(1999)
        } catch (error) {
          expect(error).toBeInstanceOf(TypeError)
        }
        expect((await store.get('iso:1'))?.value).toEqual({
          name: 'Ada',
          roles: ['admin'],
          at: new Date('2024-01-01T00:00:00.000Z'),
        })
      })
    })

    describe('freshness', () => {
      it('returns an entry within grace (past expiresAt, before staleUntil)', async () => {
        const store = await open()
        const at = now()
        await store.set('grace:1', {
          value: 'old',
          createdAt: at - 2 * MINUTE,
          expiresAt: at - MINUTE,
          staleUntil: at + MINUTE,
        })
        const got = await store.get('grace:1')
        expect(got?.value).toBe('old')
        expect(got?.expiresAt).toBe(at - MINUTE)
      })

      it('does not store an entry already past staleUntil, and drops the previous one', async () => {
        const store = await open()
        await store.set('dead:1', entry('live'))
        const at = now()
        await store.set('dead:1', {
          value: 'dead',
          createdAt: at - 2 * MINUTE,
          expiresAt: at - MINUTE,
          staleUntil: at - 1,
        })
        expect(await store.get('dead:1')).toBeUndefined()
        await store.set('dead:2', {
          value: 'dead',
          createdAt: at - 2 * MINUTE,
          expiresAt: at - MINUTE,
          staleUntil: at - 1,
        })
        expect(await store.get('dead:2')).toBeUndefined()
      })

      it('serves through grace and forgets the entry at staleUntil (injected clock)', async (context) => {
        needs(context, 'injectableClock', true, 'the real-time variant below covers it')
        const store = await open()
        const written = entry('v', { ttl: 1_000, grace: 4_000 })
        await store.set('ttl:1', written)
        clock.advance(1_000)
        expect((await store.get('ttl:1'))?.value).toBe('v')
        clock.advance(3_999)
        expect((await store.get('ttl:1'))?.value).toBe('v')
        if (store.peek) expect(store.peek('ttl:1')?.value).toBe('v')
        clock.advance(1)
        expect(await store.get('ttl:1')).toBeUndefined()
        expect(store.peek?.('ttl:1')).toBeUndefined()
        if (store.getMany) expect(await store.getMany(['ttl:1'])).toEqual([undefined])
      })

      it('does not store an entry whose staleUntil is exactly now (injected clock)', async (context) => {
        needs(context, 'injectableClock', true, 'exact instants need a clock the suite controls')
        const store = await open()
        const at = now()
        await store.set('edge:1', { value: 'v', createdAt: at - 10, expiresAt: at, staleUntil: at })
        expect(await store.get('edge:1')).toBeUndefined()
      })

      it('forgets an entry once staleUntil passes (real time)', async (context) => {
        needs(context, 'injectableClock', false, 'the injected-clock variant above covers it without waiting')
        const store = await open()
        const staleUntil = Date.now() + 400
        await store.set('ttl:1', {
          value: 'v',
          createdAt: Date.now(),
          expiresAt: staleUntil - 200,
          staleUntil,
        })
        const early = await store.get('ttl:1')
        // Only meaningful if the read surely happened before staleUntil, even on a loaded machine.
        if (Date.now() < staleUntil - 100) expect(early?.value).toBe('v')
        await vi.waitFor(async () => expect(await store.get('ttl:1')).toBeUndefined(), {
          timeout: 5_000,
          interval: 50,
        })
      })
    })

    describe('pattern deletes', () => {
      const keys = [
        'user:1',
        'user:2',
        'user:10',
        'user:1:avatar',
        'users:1',
        'user-1',
        'v1.a',
        'v1xa',
        'other:1',
      ]

      async function seeded(): Promise<CacheStore> {
        const store = await open()
        for (const key of keys) await store.set(key, entry(key))
        return store
      }

      async function present(store: CacheStore): Promise<string[]> {
        const found: string[] = []
        for (const key of keys) if ((await store.get(key)) !== undefined) found.push(key)
        return found
      }

      it('* matches any run of characters, including none and colons', async () => {
        const store = await seeded()
        expect(await store.deletePattern('user:*')).toBe(4)
        expect(await present(store)).toEqual(['users:1', 'user-1', 'v1.a', 'v1xa', 'other:1'])
      })

      it('? matches exactly one character', async () => {
        const store = await seeded()
        expect(await store.deletePattern('user:?')).toBe(2)
        expect(await present(store)).toEqual([
          'user:10',
          'user:1:avatar',
          'users:1',
          'user-1',
          'v1.a',
          'v1xa',
          'other:1',
        ])
      })

      it('. and - are literal characters', async () => {
        const store = await seeded()
        expect(await store.deletePattern('v1.*')).toBe(1)
        expect(await store.deletePattern('user-?')).toBe(1)
        expect(await present(store)).toEqual([
          'user:1',
          'user:2',
          'user:10',
          'user:1:avatar',
          'users:1',
          'v1xa',
          'other:1',
        ])
      })

      it('a pattern without wildcards removes only that key', async () => {
        const store = await seeded()
        expect(await store.deletePattern('user:1')).toBe(1)
        expect(await store.deletePattern('nothing:here:*')).toBe(0)
        expect(await present(store)).toEqual(keys.filter((k) => k !== 'user:1'))
      })

      it('* alone removes every entry of this store', async () => {
        const store = await seeded()
        expect(await store.deletePattern('*')).toBe(keys.length)
        expect(await present(store)).toEqual([])
      })
    })

    describe('tag deletes', () => {
      it('removes every entry carrying any of the tags, returns the count, leaves the rest', async () => {
        const store = await open()
        await store.set('a', entry('a', { tags: ['t1'] }))
        await store.set('b', entry('b', { tags: ['t1', 't2'] }))
        await store.set('c', entry('c', { tags: ['t2'] }))
        await store.set('d', entry('d', { tags: ['t3'] }))
        await store.set('e', entry('e'))
        expect(await store.deleteTags(['t1', 't2'])).toBe(3)
        for (const key of ['a', 'b', 'c']) expect(await store.get(key)).toBeUndefined()
        expect((await store.get('d'))?.value).toBe('d')
        expect((await store.get('e'))?.value).toBe('e')
        expect(await store.deleteTags(['t1'])).toBe(0)
        expect(await store.deleteTags(['unknown'])).toBe(0)
        expect(await store.deleteTags([])).toBe(0)
        expect(await store.deleteTags(['t3'])).toBe(1)
      })

      it('forgets tags an entry lost when it was overwritten', async () => {
        const store = await open()
        await store.set('k:1', entry('v1', { tags: ['old'] }))
        await store.set('k:1', entry('v2'))
        await store.set('k:2', entry('v1', { tags: ['old'] }))
        await store.set('k:2', entry('v2', { tags: ['new'] }))
        expect(await store.deleteTags(['old'])).toBe(0)
        expect((await store.get('k:1'))?.value).toBe('v2')
        expect((await store.get('k:2'))?.value).toBe('v2')
        expect(await store.deleteTags(['new'])).toBe(1)
        expect(await store.get('k:2')).toBeUndefined()
      })

      it('forgets tags of entries removed by delete, deletePattern and clear', async () => {
        const store = await open()
        await store.set('k:1', entry('v', { tags: ['t'] }))
        await store.set('k:2', entry('v', { tags: ['t'] }))
        await store.delete('k:1')
        await store.deletePattern('k:2')
        // Written again without the tag: a stale tag membership must not reach them.
        await store.set('k:1', entry('again'))
        await store.set('k:2', entry('again'))
        expect(await store.deleteTags(['t'])).toBe(0)
        expect((await store.get('k:1'))?.value).toBe('again')
        expect((await store.get('k:2'))?.value).toBe('again')
        await store.set('k:3', entry('v', { tags: ['u'] }))
        await store.clear()
        await store.set('k:3', entry('again'))
        expect(await store.deleteTags(['u'])).toBe(0)
        expect((await store.get('k:3'))?.value).toBe('again')
      })
    })

    describe('batches', () => {
      it('getMany returns entries in the order of the keys, undefined for missing ones', async (context) => {
        const store = await open()
        if (!store.getMany) return context.skip('store has no getMany (optional in CacheStore)')
        await store.set('m:1', entry(1))
        await store.set('m:3', entry(3))
        const got = await store.getMany<number>(['m:3', 'm:2', 'm:1', 'm:3'])
        expect(got.map((e) => e?.value)).toEqual([3, undefined, 1, 3])
        expect(await store.getMany([])).toEqual([])
      })

      it('setMany writes every entry, readable one by one', async (context) => {
        const store = await open()
        if (!store.setMany) return context.skip('store has no setMany (optional in CacheStore)')
        await store.setMany<unknown>([
          ['s:1', entry({ n: 1 }, { tags: ['batch'] })],
          ['s:2', entry([2])],
        ])
        expect((await store.get('s:1'))?.value).toEqual({ n: 1 })
        expect((await store.get('s:2'))?.value).toEqual([2])
        expect(await store.deleteTags(['batch'])).toBe(1)
      })
    })

    describe('clear and isolation', () => {
      it('clear removes every entry of this store', async () => {
        const store = await open()
        await store.set('c:1', entry(1, { tags: ['t'] }))
        await store.set('c:2', entry(2))
        await store.clear()
        expect(await store.get('c:1')).toBeUndefined()
        expect(await store.get('c:2')).toBeUndefined()
        expect(await store.deleteTags(['t'])).toBe(0)
        await store.set('c:3', entry(3))
        expect((await store.get('c:3'))?.value).toBe(3)
      })

      it('two instances with the same prefix see each other’s writes and deletes', async (context) => {
        needs(context, 'sharedAcrossInstances', true, 'instances are independent (see the test below)')
        const a = await open()
        const b = await open()
        await a.set('shared:1', entry('from a'))
        expect((await b.get('shared:1'))?.value).toBe('from a')
        expect(await b.delete('shared:1')).toBe(true)
        expect(await a.get('shared:1')).toBeUndefined()
      })

      it('two instances do not share entries', async (context) => {
        needs(context, 'sharedAcrossInstances', false, 'shared instances are tested above')
        const a = await open()
        const b = await open()
        await a.set('own:1', entry('from a'))
        expect(await b.get('own:1')).toBeUndefined()
        await b.clear()
        expect((await a.get('own:1'))?.value).toBe('from a')
      })

      describe('prefix isolation', () => {
        async function pair(): Promise<[CacheStore, CacheStore]> {
          // app: and apple: guard against prefix matching without its trailing colon.
          const a = await open(`${prefix}app:`)
          const b = await open(`${prefix}apple:`)
          for (const store of [a, b]) {
            await store.set('k:1', entry('v', { tags: ['t'] }))
            await store.set('k:2', entry('w'))
          }
          return [a, b]
        }

        async function intact(store: CacheStore): Promise<void> {
          expect((await store.get('k:1'))?.value).toBe('v')
          expect((await store.get('k:2'))?.value).toBe('w')
        }

        it('clear on one prefix leaves the other’s entries', async (context) => {
          needs(context, 'sharedAcrossInstances', true, 'unshared instances cannot touch each other')
          const [a, b] = await pair()
          await a.clear()
          expect(await a.get('k:1')).toBeUndefined()
          await intact(b)
        })

        it('deletePattern("*") on one prefix leaves the other’s entries', async (context) => {
          needs(context, 'sharedAcrossInstances', true, 'unshared instances cannot touch each other')
          const [a, b] = await pair()
          expect(await a.deletePattern('*')).toBe(2)
          await intact(b)
        })

        it('deleteTags on one prefix leaves the other’s entries', async (context) => {
          needs(context, 'sharedAcrossInstances', true, 'unshared instances cannot touch each other')
          const [a, b] = await pair()
          expect(await a.deleteTags(['t'])).toBe(1)
          await intact(b)
        })
      })

      it('a new instance with the same prefix reads what a closed one wrote', async (context) => {
        needs(context, 'survivesRestart', true, 'entries live only as long as the instance')
        const a = await open()
        await a.set('durable:1', entry({ kept: true }))
        await a.close()
        const b = await open()
        expect((await b.get('durable:1'))?.value).toEqual({ kept: true })
      })
    })

    describe('lifecycle and reporting', () => {
      it('operations after close reject with E_CLOSED; close again resolves', async (context) => {
        needs(context, 'rejectsAfterClose', true, 'the store documents what operations do after close')
        const store = await open()
        await store.set('x:1', entry('v'))
        await store.close()
        const operations: [string, () => Promise<unknown>][] = [
          ['get', () => store.get('x:1')],
          ['set', () => store.set('x:1', entry('w'))],
          ['delete', () => store.delete('x:1')],
          ['deletePattern', () => store.deletePattern('*')],
          ['deleteTags', () => store.deleteTags(['t'])],
          ['clear', () => store.clear()],
        ]
        if (store.getMany) operations.push(['getMany', () => store.getMany!(['x:1'])])
        if (store.setMany) operations.push(['setMany', () => store.setMany!([['x:1', entry('w')]])])
        for (const [name, run] of operations) {
          const error = await rejection(run)
          expect(
            CacheError.is(error, CacheErrorCode.CLOSED),
            `${name} after close: got ${String(error)}`,
          ).toBe(true)
        }
        await expect(store.close()).resolves.toBeUndefined()
      })

      it('close resolves, also when called twice', async () => {
        const store = await open()
        await store.set('x:1', entry('v'))
        await store.close()
        await expect(store.close()).resolves.toBeUndefined()
      })

      it('stats() names each tier and reports non-negative figures', async (context) => {
        const store = await open()
        if (!store.stats) return context.skip('store has no stats (optional in CacheStore)')
        await store.set('s:1', entry('v'))
        await store.get('s:1')
        await store.get('s:missing')
        const rows = await store.stats()
        expect(rows.length).toBeGreaterThan(0)
        for (const row of rows) {
          expect(typeof row.tier).toBe('string')
          expect(row.tier).not.toBe('')
          expect(typeof row.available).toBe('boolean')
          for (const figure of ['entries', 'bytes', 'evictions', 'hits', 'misses', 'errors'] as const) {
            const n = row[figure]
            if (n !== undefined)
              expect(Number.isFinite(n) && n >= 0, `${row.tier}.${figure} = ${n}`).toBe(true)
          }
        }
      })

      it('health() names each tier and says up for a fresh store', async (context) => {
        const store = await open()
        if (!store.health) return context.skip('store has no health (optional in CacheStore)')
        const checks = await store.health()
        expect(checks.length).toBeGreaterThan(0)
        for (const check of checks) {
          expect(typeof check.tier).toBe('string')
          expect(check.tier).not.toBe('')
          if (check.optional !== true)
            expect(check.status, `${check.tier}: ${check.message ?? ''}`).toBe('up')
        }
      })

      it('peek agrees with get', async (context) => {
        const store = await open()
        if (!store.peek) return context.skip('store has no peek (optional, in-process tiers only)')
        await store.set('p:1', entry({ n: 1 }))
        expect(store.peek('p:1')?.value).toEqual({ n: 1 })
        expect(store.peek('p:1')?.value).toEqual((await store.get('p:1'))?.value)
        expect(store.peek('p:missing')).toBeUndefined()
      })
    })
  })
}

/** `t<random>:` — unique per test so tests never see each other's keys. */
function freshPrefix(): string {
  return `t${randomBytes(6).toString('hex')}:`
}

/**
 * The error `run` rejected with. Fails when it resolves, or when it throws synchronously: callers
 * of a Promise-returning store method handle failures with `.catch`.
 */
async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  let promise: Promise<unknown>
  try {
    promise = run()
  } catch (error) {
    throw new Error(`expected a rejected promise, but the call threw synchronously: ${String(error)}`)
  }
  return promise.then(
    () => {
      throw new Error('expected a rejection, but the promise resolved')
    },
    (error: unknown) => error,
  )
}
