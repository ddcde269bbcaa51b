import { escapeGlob, reconnectDelay } from '@strata-cache/redis/internal'
import { describe, expect, it } from 'vitest'

describe('reconnectDelay', () => {
  it('doubles from the base delay up to the cap', () => {
    const top = () => 1 // the largest jitter
    expect(
      [1, 2, 3, 4, 5, 6].map((n) => reconnectDelay(n, { baseDelayMs: 50, maxDelayMs: 1000 }, top)),
    ).toEqual([50, 100, 200, 400, 800, 1000])
    expect(reconnectDelay(10_000, { baseDelayMs: 50, maxDelayMs: 1000 }, top)).toBe(1000)
  })

  it('jitters between half the step and the full step', () => {
    expect(reconnectDelay(3, { baseDelayMs: 50, maxDelayMs: 1000 }, () => 0)).toBe(100)
    expect(reconnectDelay(3, { baseDelayMs: 50, maxDelayMs: 1000 }, () => 0.5)).toBe(150)
    for (let i = 0; i < 200; i++) {
      const d = reconnectDelay(4)
      expect(d).toBeGreaterThanOrEqual(200)
      expect(d).toBeLessThanOrEqual(400)
    }
  })
})

describe('escapeGlob', () => {
  it('escapes every Redis glob character so a prefix matches only itself', () => {
    expect(escapeGlob('app:')).toBe('app:')
    expect(escapeGlob('a*b?c[d]e\\f')).toBe('a\\*b\\?c\\[d\\]e\\\\f')
  })
})
