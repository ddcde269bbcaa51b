import { RedisStore } from '@strata-cache/redis'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { type FaultProxy, startFaultProxy } from '@strata-cache/test-suite/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Pod, startPod } from './helpers/pods.ts'
import { sleep, until } from './helpers/wait.ts'

/*
 * Faults on ONE pod while the others keep Redis (issue: "no stale value after one pod loses Redis").
 * Pod A reaches Redis through a TCP fault proxy (both its L2 and bus connections), pod B directly;
 * "a fresh pod" is what L2 holds, read by a RedisStore of the test's own. After recovery, none of
 * them returns the older value.
 */
let server: RedisServer
let proxy: FaultProxy
let a: Pod
let b: Pod
let fresh: RedisStore
const prefix = 'pf:'
const FAULT_MS = 2000
let round = 0

interface PodStatus {
  l2Available: boolean
  busConnected: boolean
  bus?: { pending?: number }
  repairs?: { pending?: number; queued?: number; replayed?: number }
  busInvalidations: number
}

beforeAll(async () => {
  server = await startRedisServer({ ownServer: true })
  proxy = await startFaultProxy({ host: '127.0.0.1', port: Number(new URL(server.url).port) })
  const common = { prefix, degradedL1Ttl: '1s', heartbeat: '250ms', lockWait: '300ms' }
  ;[a, b] = await Promise.all([
    startPod('pf-a', { ...common, redisUrl: proxy.url }),
    startPod('pf-b', { ...common, redisUrl: server.url }),
  ])
  fresh = new RedisStore({ url: server.url, prefix, commandTimeout: '1s' })
}, 60_000)

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()])
  await fresh?.close()
  await proxy?.close()
  await server?.stop()
})

/** A key no other test touches. */
function key(name: string): string {
  return `rack:${++round}:${name}`
}

/** What L2 holds for `k`: what a pod started now would read. */
async function l2Value(k: string): Promise<unknown> {
  return (await fresh.get(k))?.value
}

/** Pod A is back: L2 answers, the bus is subscribed, every repair reached L2 and its notice went out. */
async function recovered(): Promise<void> {
  await until(
    async () => {
      const status = await a.call<PodStatus>('status')
      return (
        status.l2Available &&
        status.busConnected &&
        status.repairs?.pending === 0 &&
        (status.bus?.pending ?? 0) === 0
      )
    },
    20_000,
    'pod A recovered and replayed its repairs',
  )
}

/** Every reader after recovery: pod A, pod B (once the notices that follow a repair reached it), a fresh pod. */
async function expectNoOlderValue(k: string, allowed: readonly unknown[], bInvalidationsBefore: number) {
  await recovered()
  await until(
    async () => (await b.call<PodStatus>('status')).busInvalidations > bInvalidationsBefore,
    5000,
    'pod B heard of the change',
  )
  // Longer than degradedL1Ttl: whatever A kept in L1 during the fault has had to go.
  await sleep(1100)
  for (let i = 0; i < 3; i++) {
    expect(allowed).toContain(await l2Value(k))
    expect(allowed).toContain(await a.call('get', { key: k }))
    expect(allowed).toContain(await b.call('get', { key: k }))
  }
}

async function bInvalidations(): Promise<number> {
  return (await b.call<PodStatus>('status')).busInvalidations
}

/** Both pods hold `value` for `k` in L1 (B read it, A wrote it). */
async function seed(k: string, value: unknown, tags?: string[]): Promise<void> {
  await a.call('set', { key: k, value, ...(tags === undefined ? {} : { tags }) })
  await until(async () => (await b.call('get', { key: k })) === value, 5000, `B sees ${String(value)}`)
}

describe('one pod cut off (connections reset, new ones refused)', () => {
  it('a delete made while cut off reaches L2 on recovery, and no pod serves the old value after it', async () => {
    const k = key('del')
    await seed(k, 'v1')
    const before = await bInvalidations()
    proxy.reset(FAULT_MS)
    const started = performance.now()
    await a.call('delete', { key: k })
    expect(performance.now() - started).toBeLessThan(1000) // the caller is not held up
    expect(await a.call('get', { key: k })).toBeUndefined() // A reads its own delete at once
    await expectNoOlderValue(k, [undefined], before)
  })

  it('a set made while cut off leaves no older value behind', async () => {
    const k = key('set')
    await seed(k, 'v1')
    const before = await bInvalidations()
    proxy.reset(FAULT_MS)
    await a.call('set', { key: k, value: 'v2' })
    expect(await a.call('get', { key: k })).toBe('v2') // A reads its own write
    await expectNoOlderValue(k, ['v2', undefined], before)
  })

  it('pattern and tag invalidations made while cut off are applied on recovery', async () => {
    const byPattern = key('pat')
    const byTag = key('tag')
    await seed(byPattern, 'old')
    await seed(byTag, 'old', ['room-7'])
    const before = await bInvalidations()
    proxy.reset(FAULT_MS)
    await a.call('invalidate', { pattern: `${byPattern.split(':').slice(0, 2).join(':')}:*` })
    await a.call('invalidateTags', { tags: ['room-7'] })
    await expectNoOlderValue(byPattern, [undefined], before)
    await expectNoOlderValue(byTag, [undefined], before)
  })
})

describe('one pod whose bytes are held, then delivered in order', () => {
  it("a late set does not overwrite another pod's newer write", async () => {
    const k = key('late-set')
    await seed(k, 'v1')
    const before = await bInvalidations()
    proxy.hold(FAULT_MS)
    await a.call('set', { key: k, value: 'v2-late' }) // gives up after its deadline
    await sleep(300)
    await b.call('set', { key: k, value: 'v3-newer' })
    await expectNoOlderValue(k, ['v3-newer', undefined], before)
  })

  it("a pattern invalidation delivered late after another pod's newer write leaves no older value", async () => {
    const k = key('late-pat')
    await seed(k, 'v1')
    const before = await bInvalidations()
    proxy.hold(FAULT_MS)
    await a.call('invalidate', { pattern: `${k.split(':').slice(0, 2).join(':')}:*` })
    await sleep(300)
    await b.call('set', { key: k, value: 'v2-newer' })
    await expectNoOlderValue(k, ['v2-newer', undefined], before)
  })

  it("a loader's old result, held and delivered after another pod's delete, is not written", async () => {
    const k = key('late-fill')
    const loading = a.call('getOrSetSlow', { key: k, value: 'old-data', loaderMs: 400 })
    await a.call('loaderStarted', { key: k }) // the loader has read the (old) data
    await b.call('delete', { key: k }) // the data changes; B invalidates
    proxy.hold(FAULT_MS) // A's fill then sits in a queue and reaches Redis late
    expect(await loading).toBe('old-data') // the caller still gets what its loader returned
    const before = await bInvalidations()
    await recovered()
    await sleep(1100)
    expect(await l2Value(k)).toBeUndefined()
    expect(await a.call('get', { key: k })).toBeUndefined()
    expect(await b.call('get', { key: k })).toBeUndefined()
    expect(await bInvalidations()).toBeGreaterThanOrEqual(before)
  })
})

describe('slow loads without any network fault', () => {
  it("a loader that read old data before another pod's delete cannot write it back", async () => {
    const k = key('race')
    await seed(k, 'v1')
    await a.call('dropL1', { key: k })
    await b.call('delete', { key: k })
    const loading = a.call('getOrSetSlow', { key: k, value: 'read-before-update', loaderMs: 300 })
    await a.call('loaderStarted', { key: k })
    await b.call('delete', { key: k }) // the database changed after the loader read it
    expect(await loading).toBe('read-before-update')
    expect(await l2Value(k)).toBeUndefined()
    expect(await b.call('get', { key: k })).toBeUndefined()
  })

  it('a lock holder whose loader outlives its lease (it lapsed while cut off) cannot write', async () => {
    const k = key('lease')
    const loading = a.call('getOrSetSlow', { key: k, value: 'holder-old', loaderMs: 2500, lock: true })
    await a.call('loaderStarted', { key: k })
    proxy.hold(FAULT_MS) // A cannot renew: its lease (1 s) lapses in Redis
    await sleep(1300)
    // B takes the lock over and loads the newer data.
    expect(await b.call('getOrSetSlow', { key: k, value: 'newer', loaderMs: 10, lock: true })).toBe('newer')
    expect(await loading).toBe('holder-old')
    await recovered()
    await sleep(1100)
    expect(await l2Value(k)).toBe('newer')
    expect(['newer', undefined]).toContain(await a.call('get', { key: k }))
    expect(await b.call('get', { key: k })).toBe('newer')
  })
})
