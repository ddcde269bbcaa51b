import type { BreakerState } from '@strata-cache/core'
import { CircuitBreaker } from '@strata-cache/redis/internal'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

/** A breaker whose probe answers as `healthy` says, on fake timers and a manual clock. */
function setup(options: ConstructorParameters<typeof CircuitBreaker>[0] = {}) {
  const state = { healthy: false, probes: 0, now: 0 }
  const changes: [BreakerState, BreakerState][] = []
  const breaker = new CircuitBreaker(options, {
    probe: async () => {
      state.probes++
      if (!state.healthy) throw new Error('still down')
    },
    onStateChange: (next, previous) => changes.push([previous, next]),
    now: () => state.now,
  })
  return { breaker, state, changes }
}

describe('CircuitBreaker', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('opens after 5 consecutive failures by default, not after 4', () => {
    const { breaker, changes } = setup()
    for (let i = 0; i < 4; i++) breaker.recordFailure()
    expect(breaker.state).toBe('closed')
    expect(breaker.allows()).toBe(true)
    breaker.recordFailure()
    expect(breaker.state).toBe('open')
    expect(breaker.allows()).toBe(false)
    expect(changes).toEqual([['closed', 'open']])
  })

  it('a success resets the consecutive count', () => {
    const { breaker } = setup()
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) breaker.recordFailure()
      breaker.recordSuccess()
    }
    expect(breaker.state).toBe('closed')
    expect(breaker.failures).toBe(12)
    expect(breaker.consecutive).toBe(0)
  })

  it('opens on a failure ratio over the window once enough calls were seen', () => {
    const { breaker } = setup({ failureRatio: 0.5, minimumCalls: 20, windowMs: 10_000 })
    // Alternate: never 5 in a row, but half of all calls fail.
    for (let i = 0; i < 19; i++) {
      if (i % 2 === 0) breaker.recordFailure()
      else breaker.recordSuccess()
    }
    expect(breaker.state).toBe('closed')
    breaker.recordSuccess()
    breaker.recordFailure()
    expect(breaker.state).toBe('open')
  })

  it('forgets the ratio when the window rolls over', () => {
    const { breaker, state } = setup({ failureRatio: 0.5, minimumCalls: 20, windowMs: 10_000 })
    for (let i = 0; i < 18; i++) {
      if (i % 2 === 0) breaker.recordFailure()
      else breaker.recordSuccess()
    }
    state.now += 10_000
    for (let i = 0; i < 3; i++) breaker.recordFailure()
    breaker.recordSuccess()
    expect(breaker.state).toBe('closed')
  })

  it('probes in the background every 500 ms while open, half-open during a probe, and closes when it answers', async () => {
    const { breaker, state, changes } = setup()
    breaker.open()
    await vi.advanceTimersByTimeAsync(499)
    expect(state.probes).toBe(0)
    await vi.advanceTimersByTimeAsync(1)
    expect(state.probes).toBe(1)
    expect(breaker.state).toBe('open')
    await vi.advanceTimersByTimeAsync(1000)
    expect(state.probes).toBe(3)
    state.healthy = true
    await vi.advanceTimersByTimeAsync(500)
    expect(breaker.state).toBe('closed')
    expect(changes.slice(0, 3)).toEqual([
      ['closed', 'open'],
      ['open', 'half-open'],
      ['half-open', 'open'],
    ])
    expect(changes.at(-1)).toEqual(['half-open', 'closed'])
    // Closed again: no more probes, and a fresh run of failures is needed to reopen.
    await vi.advanceTimersByTimeAsync(5000)
    expect(state.probes).toBe(4)
    for (let i = 0; i < 4; i++) breaker.recordFailure()
    expect(breaker.state).toBe('closed')
  })

  it('lets no caller through while half-open: only the probe', async () => {
    let release: () => void = () => {}
    const breaker = new CircuitBreaker(
      {},
      { probe: () => new Promise<void>((resolve) => (release = resolve)), onStateChange: () => {} },
    )
    breaker.open()
    await vi.advanceTimersByTimeAsync(500)
    expect(breaker.state).toBe('half-open')
    expect(breaker.allows()).toBe(false)
    release()
    await vi.advanceTimersByTimeAsync(0)
    expect(breaker.state).toBe('closed')
    expect(breaker.allows()).toBe(true)
  })

  it('honours a custom threshold and probe interval, and stops probing when stopped', async () => {
    const { breaker, state } = setup({ failureThreshold: 2, probeIntervalMs: 100 })
    breaker.recordFailure()
    breaker.recordFailure()
    expect(breaker.state).toBe('open')
    await vi.advanceTimersByTimeAsync(300)
    expect(state.probes).toBe(3)
    breaker.stop()
    await vi.advanceTimersByTimeAsync(1000)
    expect(state.probes).toBe(3)
  })

  it('survives a throwing state listener', async () => {
    const breaker = new CircuitBreaker(
      { failureThreshold: 1 },
      {
        probe: async () => {},
        onStateChange: () => {
          throw new Error('listener bug')
        },
      },
    )
    breaker.recordFailure()
    expect(breaker.state).toBe('open')
    await vi.advanceTimersByTimeAsync(500)
    expect(breaker.state).toBe('closed')
  })
})
