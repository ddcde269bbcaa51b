import { describe, expect, it } from 'vitest'
import { decodeBusMessage, encodeBusMessage } from '../src/bus-message.ts'
import type { Invalidation } from '../src/invalidation.ts'

describe('bus message codec', () => {
  const cases: Invalidation[] = [
    { kind: 'key', keys: ['thermal:rack:1:abc'] },
    { kind: 'key', keys: ['a', 'b.c', 'd_e-f:1'] },
    { kind: 'pattern', pattern: 'thermal:rack:*:??' },
    { kind: 'tags', tags: ['rack-1', 'site:2'] },
    { kind: 'clear' },
  ]

  it.each(cases)('round-trips $kind', (invalidation) => {
    const text = encodeBusMessage('pod-a', 42, invalidation)
    expect(text.startsWith('1|pod-a|42|')).toBe(true)
    expect(decodeBusMessage(text)).toEqual({ ok: true, instanceId: 'pod-a', seq: 42, invalidation })
  })

  it('carries the stream of a message sent on a store connection, and refuses a malformed one', () => {
    const text = encodeBusMessage('pod-a', 3, { kind: 'key', keys: ['k'] }, 2)
    expect(text).toBe('1|pod-a~2|3|k|k')
    expect(decodeBusMessage(text)).toEqual({
      ok: true,
      instanceId: 'pod-a',
      stream: 2,
      seq: 3,
      invalidation: { kind: 'key', keys: ['k'] },
    })
    for (const sender of ['pod-a~', 'pod-a~x', 'pod-a~01', 'pod-a~12345', '~1', 'pod-a~1~2']) {
      const decoded = decodeBusMessage(`1|${sender}|1|k|k`)
      expect(decoded.ok, sender).toBe(false)
    }
  })

  it('is compact: a key invalidation is the key plus a short header', () => {
    expect(encodeBusMessage('p1', 7, { kind: 'key', keys: ['user:1'] })).toBe('1|p1|7|k|user:1')
  })

  it.each([
    ['', 'unknown version'],
    ['2|pod|1|k|a', 'unknown version "2"'],
    ['hello world', 'unknown version'],
    ['1|pod|1|k', 'expected 5 fields'],
    ['1|pod|1|k|a|b', 'expected 5 fields'],
    ['1|p o d|1|k|a', 'invalid instance id'],
    ['1|pod|0|k|a', 'invalid sequence number'],
    ['1|pod|-3|k|a', 'invalid sequence number'],
    ['1|pod|1.5|k|a', 'invalid sequence number'],
    ['1|pod|99999999999999999|k|a', 'invalid sequence number'],
    ['1|pod|1|k|', 'invalid key'],
    ['1|pod|1|k|a,,b', 'invalid key'],
    ['1|pod|1|k|a b', 'invalid key'],
    ['1|pod|1|p|a b*', 'invalid pattern'],
    ['1|pod|1|t|ok,bad tag', 'invalid tag'],
    ['1|pod|1|c|x', 'clear carries no payload'],
    ['1|pod|1|z|a', 'unknown kind "z"'],
  ])('refuses %j (%s) without throwing', (text, reason) => {
    const decoded = decodeBusMessage(text)
    expect(decoded.ok).toBe(false)
    if (!decoded.ok) expect(decoded.reason).toContain(reason)
  })

  it('refuses non-strings', () => {
    expect(decodeBusMessage(Buffer.from('1|a|1|c|'))).toEqual({ ok: false, reason: 'not a string' })
  })
})
