import { jsonSerializer } from '@strata-cache/core'
import { compileGlob, type GlobMatchCounter } from '@strata-cache/core/internal'
import { encodeEntry } from '@strata-cache/redis/internal'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BusSigner } from '../src/bus-signature.ts'
import { type Pod, startPod } from './helpers/pods.ts'
import { until } from './helpers/wait.ts'

// Whoever can PUBLISH on the app's Redis, as a separate process would: pods in child processes, the
// attacker a plain ioredis client of the test.
const SECRET = 'multi-pod-secret-0123456789abcdef'
const KEYS = 2000
const KEY_LENGTH = 256

let server: RedisServer
let attacker: Redis
let signed: [Pod, Pod]
let open: Pod

type Status = {
  bus: { received: number; dropped: number; rejected: number; gaps: number }
  busInvalidations: number
}

beforeAll(async () => {
  server = await startRedisServer({ ownServer: true })
  attacker = new Redis(server.url)
  const pods = await Promise.all([
    startPod('signed-a', { redisUrl: server.url, prefix: 'sec:', secret: SECRET }),
    startPod('signed-b', { redisUrl: server.url, prefix: 'sec:', secret: SECRET }),
    startPod('open-a', { redisUrl: server.url, prefix: 'open:' }),
  ])
  signed = [pods[0], pods[1]]
  open = pods[2]
}, 60_000)

afterAll(async () => {
  await Promise.all([...(signed ?? []), open].filter(Boolean).map((pod) => pod.stop()))
  attacker?.disconnect()
  await server?.stop()
})

/** Round trip of a `get` on the pod, from this process (two IPC hops included), ms. */
async function timedGet(pod: Pod, key: string): Promise<number> {
  const started = performance.now()
  await pod.call('get', { key })
  return performance.now() - started
}

describe('with a secret, two pods', () => {
  it('a forged clear, forged gaps and 10,000 fake senders change nothing on either pod', async () => {
    const [a, b] = signed
    await a.call('set', { key: 'kept:1', value: 'v1' })
    await until(async () => (await b.call('get', { key: 'kept:1' })) === 'v1')
    for (const pod of signed) expect(await pod.call('inL1', { key: 'kept:1' })).toBe(true)
    const before = await Promise.all(signed.map((pod) => pod.call<Status>('status')))

    const channel = 'sec:bus'
    const forged = [
      '1|signed-a|2|c|', // clear, as if from a
      '1|signed-a|500|k|kept:1', // a gap in a's stream
      '1|signed-a~0|900|c|', // a gap in a's store-connection stream
      new BusSigner(['not-the-secret-0123456789'], channel).seal('1|signed-a|2|c|'),
      new BusSigner([SECRET], 'other:bus').seal('1|signed-a|2|c|'), // signed for another channel
    ]
    const pipeline = attacker.pipeline()
    for (const message of forged) pipeline.publish(channel, message)
    for (let i = 0; i < 10_000; i++) pipeline.publish(channel, `1|fake-${i}|${1 + (i % 3)}|c|`)
    await pipeline.exec()
    // Both refuse every one; a skips the two envelopes whose message claims to be its own unread.
    const refused = [forged.length + 10_000 - 2, forged.length + 10_000]
    await until(async () => {
      const now = await Promise.all(signed.map((pod) => pod.call<Status>('status')))
      return now.every((s, i) => s.bus.rejected === before[i]!.bus.rejected + refused[i]!)
    }, 20_000)

    const after = await Promise.all(signed.map((pod) => pod.call<Status>('status')))
    for (const [i, s] of after.entries()) {
      expect(s.bus).toMatchObject({
        received: before[i]!.bus.received,
        gaps: before[i]!.bus.gaps,
        dropped: before[i]!.bus.dropped,
      })
      expect(s.busInvalidations).toBe(before[i]!.busInvalidations)
    }
    for (const pod of signed) expect(await pod.call('inL1', { key: 'kept:1' })).toBe(true)
    // Real traffic still flows, in order (a's sequence tracking survived the flood).
    await a.call('set', { key: 'kept:1', value: 'v2' })
    await until(async () => (await b.call('get', { key: 'kept:1' })) === 'v2')
    const last = await b.call<Status>('status')
    expect(last.bus.gaps).toBe(before[1]!.bus.gaps)
    expect(last.bus.received).toBe(before[1]!.bus.received + 1)
  }, 60_000)
})

describe('hostile patterns, 2,000 keys of 256 characters in L1', () => {
  const keys = Array.from({ length: KEYS }, (_, i) => `fill:${String(i).padStart(KEY_LENGTH - 5, 'a')}`)
  const l1Keys = (pod: Pod) => pod.call<number>('l1Size')

  /** The patterns, and those of 300 that fast-check draws which make the matcher work hardest on these keys. */
  function patterns(): string[] {
    const drawn = fc.sample(
      fc.string({ unit: fc.constantFrom('a', '*', '?', ':', '1'), minLength: 2, maxLength: 64 }),
      { numRuns: 300, seed: 13 },
    )
    const cost = (pattern: string) => {
      if ((pattern.match(/[*?]/g) ?? []).length > 16) return -1
      const counter: GlobMatchCounter = { steps: 0 }
      const match = compileGlob(pattern)
      for (const key of keys.slice(0, 50)) match(key, counter)
      return counter.steps
    }
    const hardest = drawn.sort((x, y) => cost(y) - cost(x)).slice(0, 2)
    return ['*?*?*?*?*?*?*?*?Z', '*a*a*a*a*a*a*a*a*b', `*a*a*a*a*a*a*a*a*${'a'.repeat(200)}?`, ...hardest]
  }

  it('a raw PUBLISH of each on the bus channel is handled while the pod answers a get within a second', async () => {
    let seq = 0
    for (const pattern of patterns()) {
      expect(await open.call('fill', { count: KEYS, keyLength: KEY_LENGTH, l1Only: true })).toBe(KEYS)
      const match = compileGlob(pattern)
      const expected = keys.filter((key) => match(key)).length
      const before = await open.call<Status>('status')
      await attacker.publish('open:bus', `1|attacker|${++seq}|p|${pattern}`)
      const slowest = Math.max(...(await Promise.all([1, 2, 3].map(() => timedGet(open, 'other:key')))))
      expect(slowest, pattern).toBeLessThan(1000)
      await until(
        async () => (await open.call<Status>('status')).busInvalidations === before.busInvalidations + 1,
      )
      expect(await l1Keys(open), pattern).toBe(KEYS - expected)
    }
    // One past the wildcard cap is refused by the decoder, dropped and counted; L1 is untouched.
    await open.call('fill', { count: KEYS, keyLength: KEY_LENGTH, l1Only: true })
    const before = await open.call<Status>('status')
    await attacker.publish('open:bus', `1|attacker|${++seq}|p|${'*a'.repeat(17)}`)
    expect(await timedGet(open, 'other:key')).toBeLessThan(1000)
    await until(async () => (await open.call<Status>('status')).bus.dropped === before.bus.dropped + 1)
    expect(await l1Keys(open)).toBe(KEYS)
  }, 120_000)

  it('invalidate() of each on a pod is handled while it answers a get within a second', async () => {
    for (const pattern of patterns()) {
      // L2 filled in one pipeline (as a pod's sets would leave it), L1 directly: nothing for load to time out.
      const now = Date.now()
      const entry = encodeEntry(
        { value: 1, createdAt: now, expiresAt: now + 3_600_000, staleUntil: now + 3_600_000 },
        jsonSerializer,
      )
      const pipeline = attacker.pipeline()
      for (const key of keys) pipeline.set(`open:${key}`, entry, 'PX', 3_600_000)
      await pipeline.exec()
      expect(await open.call('fill', { count: KEYS, keyLength: KEY_LENGTH, l1Only: true })).toBe(KEYS)
      const match = compileGlob(pattern)
      const expected = keys.filter((key) => match(key)).length
      const invalidation = open.call<number>('invalidate', { pattern })
      const slowest = Math.max(...(await Promise.all([1, 2, 3].map(() => timedGet(open, 'other:key')))))
      expect(slowest, pattern).toBeLessThan(1000)
      // L2 (Redis's SCAN MATCH) removed the same keys.
      expect(await invalidation, pattern).toBe(expected)
      expect(await l1Keys(open), pattern).toBe(KEYS - expected)
    }
    await expect(open.call('invalidate', { pattern: '*a'.repeat(17) })).rejects.toThrow(
      /E_INVALID_PATTERN|limit is 16/,
    )
  }, 180_000)
})
