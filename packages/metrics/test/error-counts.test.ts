import { Cache, CacheError, CacheErrorCode } from '@strata-cache/core'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { prometheusMetrics } from '../src/prometheus.ts'
import { scrape, series } from './helpers/scrape.ts'
import { TwoTierStore } from './helpers/two-tier-store.ts'

describe('error events that stand for several failures', () => {
  it('cache_errors_total and stats().errors add the count an event carries (repeats of an open breaker)', async () => {
    const now = () => 1_700_000_000_000
    const store = new TwoTierStore(now)
    const cache = new Cache({ store, now })
    const registry = new Registry()
    prometheusMetrics(cache, { registry })
    const open = new CacheError(CacheErrorCode.CIRCUIT_OPEN, 'l2: circuit open')
    store.emit({ type: 'error', operation: 'get', tier: 'l2', error: open, key: 'k:1' })
    store.emit({ type: 'error', operation: 'get', tier: 'l2', error: open, count: 499 })
    store.emit({ type: 'error', operation: 'set', tier: 'l2', error: open, count: 20 })
    const samples = await scrape(registry)
    expect(series(samples, 'cache_errors_total', ['operation', 'error_type'])).toEqual({
      'operation=get,error_type=E_CIRCUIT_OPEN': 500,
      'operation=set,error_type=E_CIRCUIT_OPEN': 20,
    })
    expect((await cache.stats()).errors).toBe(520)
    await cache.close()
  })
})
