import { createEntry } from '@strata-cache/core'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisLock } from '../src/redis-lock.ts'
import { sleep } from './helpers/wait.ts'

let server: RedisServer
let client: Redis
let counter = 0

beforeAll(async () => {
  server = await startRedisServer()
  client = new Redis(server.url)
})
afterAll(async () => {
  client?.disconnect()
  await server?.stop()
})

/** A lock over a plain Redis hash of "written values", with notices fired by the test. */
function setup(options: { pollMs?: number } = {}) {
  const lockPrefix = `lk${++counter}#lock:`
  const values = new Map<string, unknown>()
  const notices = new Map<string, () => void>()
  const lock = new RedisLock({
    client,
    lockPrefix,
    read: async <T>(key: string) =>
      values.has(key) ? createEntry(values.get(key) as T, 60_000, 0, Date.now()) : undefined,
    onKeyNotice: (key, callback) => {
      notices.set(key, callback)
      return () => notices.delete(key)
    },
    pollMs: options.pollMs ?? 1000,
  })
  const write = (key: string, value: unknown) => {
    values.set(key, value)
    notices.get(key)?.()
  }
  return { lock, lockPrefix, write, notices }
}

describe('RedisLock', () => {
  it('renews the lease while it is held, so a loader slower than the lease keeps it', async () => {
    const { lock, lockPrefix } = setup()
    const lease = await lock.acquire('slow', 300)
    expect(lease?.fence).toEqual({ key: `${lockPrefix}slow`, token: expect.any(String) })
    await sleep(1000) // more than three lease lengths
    expect(await client.get(`${lockPrefix}slow`)).toBe(lease?.fence?.token)
    expect(await lease?.isValid()).toBe(true)
    expect(await lock.acquire('slow', 300)).toBeUndefined()
    await lease?.release()
    expect(await client.exists(`${lockPrefix}slow`)).toBe(0)
  })

  it('stops renewing once another process took the lease over, and never extends its key', async () => {
    const { lock, lockPrefix } = setup()
    const lease = await lock.acquire('taken', 300)
    await client.set(`${lockPrefix}taken`, 'someone-else', 'PX', 200)
    await sleep(600)
    expect(await client.exists(`${lockPrefix}taken`)).toBe(0) // expired: not renewed by the old holder
    expect(await lease?.isValid()).toBe(false)
    await lease?.release()
  })

  it('grants one lease per key at a time, and again after release', async () => {
    const { lock } = setup()
    const first = await lock.acquire('k', 5000)
    expect(first).toBeDefined()
    expect(await lock.acquire('k', 5000)).toBeUndefined()
    expect(await lock.acquire('other', 5000)).toBeDefined()
    expect(await first!.isValid()).toBe(true)
    await first!.release()
    expect(await first!.isValid()).toBe(false)
    expect(await lock.acquire('k', 5000)).toBeDefined()
  })

  it('fencing: an expired lease taken over by another holder is no longer valid, and its release leaves the new lease alone', async () => {
    const { lock, lockPrefix } = setup()
    const old = await lock.acquire('k', 5000)
    // The lease lapses (its holder could not renew it: hung, or cut off from Redis).
    await client.pexpire(`${lockPrefix}k`, 1)
    await sleep(20)
    const current = await lock.acquire('k', 5000)
    expect(current).toBeDefined()
    expect(await old!.isValid()).toBe(false)
    await old!.release()
    expect(await client.exists(`${lockPrefix}k`)).toBe(1)
    expect(await current!.isValid()).toBe(true)
  })

  it('waitFor returns the holder’s value as soon as it is written (notice, not polling)', async () => {
    // Polling and deadline far beyond the test timeout: only the notice can wake the waiter in time.
    const { lock, write } = setup({ pollMs: 600_000 })
    const lease = await lock.acquire('k', 600_000)
    const waiting = lock.waitFor<string>('k', 600_000)
    await sleep(20)
    write('k', 'loaded')
    expect((await waiting)?.value).toBe('loaded')
    await lease!.release()
  })

  it('waitFor resolves undefined when the holder releases without writing, and at the deadline', async () => {
    const { lock } = setup({ pollMs: 10 })
    const lease = await lock.acquire('k', 5000)
    const waiting = lock.waitFor('k', 5000)
    await sleep(30)
    await lease!.release()
    expect(await waiting).toBeUndefined()
    const again = await lock.acquire('k', 5000)
    expect(await lock.waitFor('k', 50)).toBeUndefined()
    await again!.release()
  })
})
