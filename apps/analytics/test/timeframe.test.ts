import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/config.ts'
import { resolveTimeframe, TIMEFRAMES, ttlOf } from '../src/timeframe.ts'

const config = loadConfig({})
const MIN = 60_000

describe('timeframe TTLs', () => {
  it.each([
    ['24h', 5 * MIN],
    ['7d', 30 * MIN],
    ['1w', 30 * MIN],
    ['30d', 60 * MIN],
    ['1m', 60 * MIN],
    ['90d', 60 * MIN],
    ['3m', 60 * MIN],
    ['6m', 24 * 60 * MIN],
    ['1y', 24 * 60 * MIN],
    ['all', 24 * 60 * MIN],
  ])('%s is cached for %d ms by default', (timeframe, ttl) => {
    expect(ttlOf(timeframe, config)).toBe(ttl)
  })

  it('follows the environment', () => {
    expect(ttlOf('24h', loadConfig({ ANALYTICS_TTL_24H: '90s' }))).toBe(90_000)
    expect(() => loadConfig({ ANALYTICS_TTL_1Y: 'forever' })).toThrow(
      'ANALYTICS_TTL_1Y="forever" is not a duration',
    )
  })

  it('reads degradedL1Ttl from CACHE_DEGRADED_L1_TTL (5 s by default)', () => {
    expect(config.degradedL1TtlMs).toBe(5_000)
    expect(loadConfig({ CACHE_DEGRADED_L1_TTL: '1s' }).degradedL1TtlMs).toBe(1_000)
  })

  it('refuses an unknown timeframe, listing the accepted ones', () => {
    expect(() => resolveTimeframe('2w')).toThrow('unknown timeframe "2w" (use one of 24h, 7d, 1w')
    expect(() => resolveTimeframe('constructor')).toThrow('unknown timeframe')
    expect(Object.keys(TIMEFRAMES)).toHaveLength(10)
  })
})
