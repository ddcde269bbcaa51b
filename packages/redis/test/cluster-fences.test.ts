import { type RedisCluster, startRedisCluster } from '@strata-cache/test-suite/redis-server'
import { Cluster } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { keySlot } from '../src/slot-keys.ts'
import { entry, TEST_COMMAND_TIMEOUT, uniquePrefix } from './helpers.ts'

// L2 never goes back in time on a cluster either: the write script runs in the entry's slot.
let cluster: RedisCluster
let raw: Cluster
const stores: RedisStore[] = []

function store(prefix: string): RedisStore {
  const s = new RedisStore({
    cluster: { nodes: cluster.nodes },
    prefix,
    commandTimeout: TEST_COMMAND_TIMEOUT,
  })
  stores.push(s)
  return s
}

beforeAll(async () => {
  cluster = await startRedisCluster()
  raw = new Cluster(cluster.nodes as never)
})

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()))
  raw?.disconnect()
  await cluster?.stop()
})

describe.each([
  ['no hash tag (keys over every slot)', (label: string) => uniquePrefix(label)],
  ['a hash tag (every key on one shard)', (label: string) => `{${uniquePrefix(label)}}`],
])('fenced writes on a cluster, prefix with %s', (_, makePrefix) => {
  it.each([
    ['a delete of the key', (s: RedisStore) => s.delete('k')],
    ['a set of the key', (s: RedisStore) => s.set('k', entry('newer'))],
    ['a matching pattern', (s: RedisStore) => s.deletePattern('k*')],
    ['one of its tags', (s: RedisStore) => s.deleteTags(['t1'])],
    ['a clear', (s: RedisStore) => s.clear()],
  ])('drops a fill whose loader began before %s (on another store)', async (_, change) => {
    const prefix = makePrefix('cfence')
    const a = store(prefix)
    const b = store(prefix)
    await a.set('k', entry('old', { tags: ['t1'] }))
    const since = a.loadStart()
    await change(b)
    const after = await b.get('k')
    const outcome = await a.write(a.prepare('k', entry('stale-load', { tags: ['t1'] })), { fillSince: since })
    expect(outcome).toBe('superseded')
    expect((await a.get('k'))?.value).toBe(after?.value)
  })

  it('keeps a fill that no later change covers, on any master', async () => {
    const s = store(makePrefix('ckeep'))
    const keys = Array.from({ length: 12 }, (_, i) => `item:${i}`) // over every master
    const since = s.loadStart()
    await s.deletePattern('other:*')
    await s.deleteTags(['unrelated'])
    for (const key of keys) {
      expect(await s.write(s.prepare(key, entry(key, { tags: ['t1'] })), { fillSince: since })).toBe(
        'written',
      )
    }
  })

  it('deletes many keys across slots, fencing each', async () => {
    const prefix = makePrefix('cdel')
    const s = store(prefix)
    const keys = Array.from({ length: 30 }, (_, i) => `item:${i}`)
    await s.setMany(keys.map((k): [string, ReturnType<typeof entry<string>>] => [k, entry(k)]))
    const since = s.loadStart()
    expect(await s.invalidate({ kind: 'key', keys })).toEqual({ applied: true, removed: 30 })
    expect(await s.write(s.prepare('item:7', entry('late')), { fillSince: since })).toBe('superseded')
  })

  it('applies a fenced write only while its lock lease (in the entry slot) is held', async () => {
    const prefix = makePrefix('clease')
    const s = store(prefix)
    const lockKey = s.lockKeyFor(`${prefix.replace(/:$/, '')}#lock:`, 'k')
    expect(keySlot(lockKey)).toBe(keySlot(s.keyFor('k')))
    await raw.set(lockKey, 'mine', 'PX', 10_000)
    const lease = { key: lockKey, token: 'mine' }
    expect(await s.write(s.prepare('k', entry('v1')), { fillSince: s.loadStart(), lease })).toBe('written')
    const tagged = entry('v2', { tags: ['t1', 't2'] })
    expect(await s.write(s.prepare('k', tagged), { fillSince: s.loadStart(), lease })).toBe('written')
    expect(await s.write(s.prepare('k', entry('v3', { tags: ['t1'] })), { lease })).toBe('written')
    await raw.set(lockKey, 'someone-else', 'PX', 10_000)
    expect(await s.write(s.prepare('k', entry('v4')), { fillSince: s.loadStart(), lease })).toBe('lease-lost')
    expect(await s.write(s.prepare('k', tagged), { fillSince: s.loadStart(), lease })).toBe('lease-lost')
    expect(await s.write(s.prepare('k', entry('v5')), { lease })).toBe('lease-lost')
    expect((await s.get('k'))?.value).toBe('v3')
  })

  it('keeps tagged writes findable by deleteTags', async () => {
    const s = store(makePrefix('ctag'))
    await s.set('a', entry(1, { tags: ['t'] }))
    await s.set('b', entry(2, { tags: ['t', 'u'] }))
    expect(await s.deleteTags(['t'])).toBe(2)
    expect(await s.get('a')).toBeUndefined()
  })
})

describe('a prefix on a cluster', () => {
  it('puts every key in one slot when it holds a hash tag', () => {
    const s = store(`{${uniquePrefix('whole')}}`)
    expect(keySlot(s.keyFor('a'))).toBe(keySlot(s.keyFor('zzz:9')))
  })

  it('without a hash tag, leaves a clear fence on every master', async () => {
    const s = store(uniquePrefix('nodes'))
    await s.clear()
    const perMaster = await Promise.all(
      raw.nodes('master').map(async (node) => (await node.keys(`${s.prefix}#fc{*}`)).length),
    )
    expect(perMaster).toEqual([1, 1, 1])
  })

  it('refuses a prefix with a brace but no complete hash tag', () => {
    for (const prefix of ['a{b:', 'a{}:', 'a}b{:'])
      expect(() => new RedisStore({ cluster: { nodes: cluster.nodes }, prefix })).toThrow(/hash tag/)
  })
})
