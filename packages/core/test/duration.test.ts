import { describe, expect, it } from 'vitest'
import { CacheError, parseDuration } from '../src/index.ts'

describe('parseDuration', () => {
  it.each([
    [250, 250],
    [0, 0],
    ['250ms', 250],
    ['5s', 5_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    [' 2 m ', 120_000],
  ])('%s → %d ms', (input, expected) => {
    expect(parseDuration(input)).toBe(expected)
  })

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '', '5', '5 minutes', '1w', 'abc', '-5s'])(
    'refuses %s with E_INVALID_DURATION naming the value and option',
    (input) => {
      try {
        parseDuration(input as never, 'ttl')
        expect.unreachable()
      } catch (error) {
        expect(CacheError.is(error, 'E_INVALID_DURATION')).toBe(true)
        expect((error as Error).message).toContain('ttl')
        expect((error as Error).message).toContain(String(input))
      }
    },
  )

  it('refuses values that are neither numbers nor strings', () => {
    expect(() => parseDuration({} as never, 'grace')).toThrow(/invalid duration for grace/)
  })
})
