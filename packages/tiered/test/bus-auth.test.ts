import { createHmac } from 'node:crypto'
import type { WriteConnection } from '@strata-cache/redis'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { until } from '@strata-cache/test-suite/testing'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { encodeBusMessage } from '../src/bus-message.ts'
import { BusSigner, SIGNED_HEAD_LENGTH } from '../src/bus-signature.ts'
import type { BusEvent } from '../src/invalidation.ts'
import { RedisBus } from '../src/redis-bus.ts'
import { SequenceTracker } from '../src/sequence-tracker.ts'

const SECRET = 'test-secret-0123456789abcdef'

describe('BusSigner', () => {
  it('seals as s1|<22 characters>|<message>, HMAC-SHA256 over the channel and the message', () => {
    const signer = new BusSigner([SECRET], 'app:bus')
    const sealed = signer.seal('1|a|1|c|')
    const mac = createHmac('sha256', SECRET).update('app:bus\n1|a|1|c|').digest().subarray(0, 16)
    expect(sealed).toBe(`s1|${mac.toString('base64url')}|1|a|1|c|`)
    expect(sealed.indexOf('1|a|')).toBe(SIGNED_HEAD_LENGTH)
    expect(signer.open(sealed)).toEqual({ ok: true, message: '1|a|1|c|' })
  })

  it('refuses unsigned, altered, other-secret and other-channel envelopes', () => {
    const signer = new BusSigner([SECRET], 'app:bus')
    const sealed = signer.seal('1|a|1|k|user:1')
    expect(signer.open('1|a|1|k|user:1')).toEqual({ ok: false, reason: 'unsigned' })
    expect(signer.open('s1|short|1|a|1|c|')).toEqual({ ok: false, reason: 'unsigned' })
    expect(signer.open(`${sealed.slice(0, -1)}2`)).toEqual({ ok: false, reason: 'wrong signature' })
    const flipped = `s1|${sealed[3] === 'A' ? 'B' : 'A'}${sealed.slice(4)}`
    expect(signer.open(flipped)).toEqual({ ok: false, reason: 'wrong signature' })
    expect(new BusSigner(['another-secret-0123456789'], 'app:bus').open(sealed).ok).toBe(false)
    expect(new BusSigner([SECRET], 'other:bus').open(sealed).ok).toBe(false)
    expect(signer.open(`s1|${'é'.repeat(22)}|1|a|1|c|`).ok).toBe(false)
  })

  it('rotates: the first secret signs, any verifies', () => {
    const old = new BusSigner(['old-secret-0123456789'], 'c')
    const rotating = new BusSigner(['new-secret-0123456789', 'old-secret-0123456789'], 'c')
    expect(rotating.open(old.seal('1|a|1|c|')).ok).toBe(true)
    expect(old.open(rotating.seal('1|a|1|c|')).ok).toBe(false)
  })
})

describe('SequenceTracker admission', () => {
  it('10,000 made-up senders, each heard once, never evict an established one', () => {
    const tracker = new SequenceTracker(4, 8)
    for (const pod of ['pod-a', 'pod-b']) {
      tracker.observe(pod, 1)
      expect(tracker.observe(pod, 2)).toBeUndefined()
    }
    for (let i = 0; i < 10_000; i++) tracker.observe(`fake-${i}`, 1 + (i % 7))
    expect(tracker.size).toEqual({ established: 2, probation: 8 })
    expect(tracker.isEstablished('pod-a') && tracker.isEstablished('pod-b')).toBe(true)
    // Their gap detection is intact.
    expect(tracker.observe('pod-a', 3)).toBeUndefined()
    expect(tracker.observe('pod-b', 5)).toBe(3)
  })

  it('promotes a sender on its next message in order; judges gaps on probation too', () => {
    const tracker = new SequenceTracker()
    expect(tracker.observe('a', 5)).toBeUndefined()
    expect(tracker.isEstablished('a')).toBe(false)
    expect(tracker.observe('a', 7)).toBe(6) // a gap, still on probation
    expect(tracker.isEstablished('a')).toBe(false)
    expect(tracker.observe('a', 8)).toBeUndefined()
    expect(tracker.isEstablished('a')).toBe(true)
    // The established table forgets its least recently heard past its bound, as before.
    const small = new SequenceTracker(2)
    for (const s of ['x', 'y', 'z']) {
      small.observe(s, 1)
      small.observe(s, 2)
    }
    expect(['x', 'y', 'z'].map((s) => small.isEstablished(s))).toEqual([false, true, true])
  })

  it('keeps least-recently-heard order when one sender is heard many times in a row', () => {
    const tracker = new SequenceTracker(2)
    for (const s of ['x', 'y']) {
      tracker.observe(s, 1)
      tracker.observe(s, 2)
    }
    // x heard again (moves to the end), several times; then z arrives and y, the least recent, goes.
    for (const seq of [3, 4, 5]) expect(tracker.observe('x', seq)).toBeUndefined()
    tracker.observe('z', 1)
    tracker.observe('z', 2)
    expect(['x', 'y', 'z'].map((s) => tracker.isEstablished(s))).toEqual([true, false, true])
    expect(tracker.observe('x', 7)).toBe(6)
    tracker.reset()
    expect(tracker.size).toEqual({ established: 0, probation: 0 })
    expect(tracker.observe('x', 9)).toBeUndefined()
  })
})

describe('RedisBus with a secret', () => {
  let server: RedisServer
  let attacker: Redis
  const open: RedisBus[] = []
  let prefixCounter = 0

  beforeAll(async () => {
    server = await startRedisServer({ ownServer: true })
    attacker = new Redis(server.url)
  })
  afterAll(async () => {
    attacker?.disconnect()
    await server?.stop()
  })
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()))
  })

  function bus(options: Partial<ConstructorParameters<typeof RedisBus>[0]>, prefix: string): RedisBus {
    const created = new RedisBus({
      url: server.url,
      prefix,
      heartbeat: '200ms',
      localDelivery: false,
      ...options,
    })
    open.push(created)
    return created
  }
  function record(target: RedisBus): BusEvent[] {
    const events: BusEvent[] = []
    target.subscribe((event) => events.push(event))
    return events
  }

  it('refuses a secret shorter than 16 characters, or an empty list', () => {
    expect(() => bus({ secret: 'short' }, 'x:')).toThrow(/option "secret" must be a string of at least 16/)
    expect(() => bus({ secret: [] }, 'x:')).toThrow(/option "secret"/)
  })

  it('signs what it sends (both paths) and applies what is signed', async () => {
    const prefix = `s${++prefixCounter}:`
    const a = bus({ instanceId: 'a', secret: SECRET }, prefix)
    const b = bus({ instanceId: 'b', secret: SECRET }, prefix)
    const spy = new Redis(server.url)
    const seen: string[] = []
    spy.on('message', (_channel: string, message: string) => seen.push(message))
    await spy.subscribe(a.channel)
    const fromB = record(b)
    await Promise.all([a.ready(), b.ready()])
    await a.publish({ kind: 'key', keys: ['user:1'] })
    // The write follow-up path (RedisStore.setFollowedBy): the PUBLISH on a store connection.
    const notice = a.followWrite({ kind: 'pattern', pattern: 'user:*' })
    await notice.followUp({ client: a.client, id: 3 } as unknown as WriteConnection)
    await notice.settled(true)
    await until(() => fromB.filter((e) => e.type === 'invalidation').length === 2)
    expect(fromB.filter((e) => e.type === 'invalidation')).toMatchObject([
      { from: 'a', invalidation: { kind: 'key', keys: ['user:1'] } },
      { from: 'a', invalidation: { kind: 'pattern', pattern: 'user:*' } },
    ])
    await until(() => seen.length === 2)
    const signer = new BusSigner([SECRET], a.channel)
    expect(seen.map((m) => signer.open(m))).toEqual([
      { ok: true, message: '1|a|1|k|user:1' },
      { ok: true, message: '1|a~3|1|p|user:*' },
    ])
    expect(b.counters()).toMatchObject({ received: 2, rejected: 0, gaps: 0, dropped: 0 })
    spy.disconnect()
  })

  it('drops forged clears, gaps and 10,000 fake senders; counts them; reports once per interval', async () => {
    const prefix = `s${++prefixCounter}:`
    const a = bus({ instanceId: 'a', secret: SECRET }, prefix)
    const b = bus({ instanceId: 'b', secret: SECRET, rejectionReportInterval: '60s' }, prefix)
    const events = record(b)
    await Promise.all([a.ready(), b.ready()])
    await a.publish({ kind: 'key', keys: ['one'] })
    await until(() => b.counters().received === 1)
    const channel = b.channel
    const forged = [
      '1|a|2|c|', // a clear "from a", unsigned
      '1|a|99|k|x', // a gap in a's sequence, unsigned
      new BusSigner(['wrong-secret-0123456789'], channel).seal('1|a|2|c|'),
      `s1|${'A'.repeat(22)}|1|a|2|c|`,
    ]
    const pipeline = attacker.pipeline()
    for (const message of forged) pipeline.publish(channel, message)
    for (let i = 0; i < 10_000; i++) pipeline.publish(channel, `1|fake-${i}|${1 + (i % 3)}|c|`)
    await pipeline.exec()
    await until(() => b.counters().rejected === 10_004, 10_000)
    // Nothing reached b's listeners but the reports; a's stream is intact.
    expect(events.filter((e) => e.type === 'invalidation')).toHaveLength(1)
    const reports = events.filter((e) => e.type === 'state' && e.state === 'dropped')
    expect(reports).toHaveLength(1)
    expect(reports[0]).toMatchObject({ dropped: 1 })
    expect((reports[0] as { reason: string }).reason).toMatch(
      /rejected 1 message\(s\) without a valid signature/,
    )
    expect(b.counters()).toMatchObject({ received: 1, gaps: 0, dropped: 0, rejected: 10_004 })
    await a.publish({ kind: 'key', keys: ['two'] })
    await until(() => events.filter((e) => e.type === 'invalidation').length === 2)
    expect(b.counters()).toMatchObject({ received: 2, gaps: 0 })
  })

  it('sums what follows the first refusal into one report at the end of the interval', async () => {
    const prefix = `s${++prefixCounter}:`
    const b = bus({ instanceId: 'b', secret: SECRET, rejectionReportInterval: '300ms' }, prefix)
    const events = record(b)
    await b.ready()
    for (let i = 0; i < 50; i++) await attacker.publish(b.channel, `1|x|${i + 1}|c|`)
    await attacker.publish(b.channel, `s1|${'A'.repeat(22)}|1|x|60|c|`)
    const reports = () => events.filter((e) => e.type === 'state' && e.state === 'dropped')
    await until(() => reports().length === 2, 5000)
    expect(reports().map((e) => (e as { reason: string }).reason)).toEqual([
      expect.stringMatching(
        /^rejected 1 message\(s\) without a valid signature \(unsigned 1, wrong signature 0\)/,
      ),
      expect.stringMatching(
        /^rejected 50 message\(s\) without a valid signature in the last \d+ ms \(unsigned 49, wrong signature 1\)/,
      ),
    ])
    expect(b.counters().rejected).toBe(51)
  })

  it('a pod without the secret cannot be heard by one with it, and the reverse', async () => {
    const prefix = `s${++prefixCounter}:`
    const signed = bus({ instanceId: 'signed', secret: SECRET }, prefix)
    const plain = bus({ instanceId: 'plain' }, prefix)
    const toPlain = record(plain)
    await Promise.all([signed.ready(), plain.ready()])
    await plain.publish({ kind: 'clear' })
    await signed.publish({ kind: 'clear' })
    await until(() => signed.counters().rejected === 1 && plain.counters().dropped === 1)
    expect(toPlain.filter((e) => e.type === 'invalidation')).toHaveLength(0)
    expect(encodeBusMessage('x', 1, { kind: 'clear' })).toBe('1|x|1|c|')
  })
})
