import { CacheError, CacheErrorCode } from '@strata-cache/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ErrorLogSampler } from '../src/index.ts'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

function recorder() {
  const lines: { fields: Record<string, unknown>; message: string }[] = []
  return { lines, warn: (fields: object, message: string) => lines.push({ fields: { ...fields }, message }) }
}

const timeout = new CacheError(CacheErrorCode.COMMAND_TIMEOUT, 'redis command timed out')

describe('ErrorLogSampler', () => {
  it('logs the first error of a kind in full and its repeats as one count per interval', () => {
    const log = recorder()
    const sampler = new ErrorLogSampler(log, 10_000)
    for (let i = 0; i < 3000; i++) sampler.error({ operation: 'get', tier: 'redis', error: timeout })
    sampler.error({ operation: 'set', tier: 'redis', error: timeout })
    expect(log.lines.map((l) => l.message)).toEqual([
      'cache error absorbed (repeats within the interval are counted)',
      'cache error absorbed (repeats within the interval are counted)',
    ])
    expect(log.lines[0]!.fields).toMatchObject({ operation: 'get', tier: 'redis', err: timeout })
    vi.advanceTimersByTime(10_000)
    expect(log.lines).toHaveLength(3)
    expect(log.lines[2]).toEqual({
      message: 'cache error repeated',
      fields: { operation: 'get', tier: 'redis', code: timeout.code, repeats: 2999, intervalMs: 10_000 },
    })
    // A new interval: the next error is in full again.
    sampler.error({ operation: 'get', tier: 'redis', error: timeout })
    expect(log.lines).toHaveLength(4)
    expect(log.lines[3]!.message).toContain('cache error absorbed')
  })

  it("adds an event's count (an open breaker's refused calls) to its kind, without a line of its own", () => {
    const log = recorder()
    const sampler = new ErrorLogSampler(log, 10_000)
    const open = new CacheError(CacheErrorCode.CIRCUIT_OPEN, 'circuit open')
    sampler.error({ operation: 'get', tier: 'redis', error: open })
    sampler.error({ operation: 'get', tier: 'redis', error: open, count: 499 })
    sampler.error({ operation: 'set', tier: 'redis', error: open, count: 20 })
    expect(log.lines).toHaveLength(1)
    vi.advanceTimersByTime(10_000)
    expect(log.lines.slice(1).map((l) => [l.fields.operation, l.fields.repeats])).toEqual([
      ['get', 499],
      ['set', 20],
    ])
  })

  it('writes the counts at a state change and starts afresh', () => {
    const log = recorder()
    const sampler = new ErrorLogSampler(log, 10_000)
    sampler.error({ operation: 'get', tier: 'redis', error: new Error('ECONNRESET') })
    sampler.error({ operation: 'get', tier: 'redis', error: new Error('ECONNRESET') })
    sampler.stateChanged()
    expect(log.lines.map((l) => l.message)).toEqual([
      'cache error absorbed (repeats within the interval are counted)',
      'cache error repeated',
    ])
    expect(log.lines[1]!.fields).toMatchObject({ code: 'Error', repeats: 1 })
    sampler.error({ operation: 'get', tier: 'redis', error: new Error('ECONNRESET') })
    expect(log.lines).toHaveLength(3)
    sampler.flush()
    expect(vi.getTimerCount()).toBe(0)
  })
})
