import { Cache } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { openTelemetryMetrics } from '../src/open-telemetry.ts'
import { prometheusMetrics } from '../src/prometheus.ts'
import { otelHarness, points } from './helpers/otel.ts'
import { scrape, series } from './helpers/scrape.ts'

const settle = () => new Promise((resolve) => setTimeout(resolve, 10))

/** A cache whose hits past half the TTL reload in the background, on a clock the test moves. */
function refreshingCache() {
  const clock = { t: 1_700_000_000_000 }
  const now = () => clock.t
  const cache = new Cache({
    store: new MemoryStore({ now }),
    now,
    defaultTtl: '10s',
    refreshAhead: { strategy: 'fraction', fraction: 0.5 },
  })
  return { cache, clock }
}

async function refreshTwice(cache: Cache, clock: { t: number }): Promise<void> {
  for (const key of ['thermal:rack:1:aa', 'thermal:rack:2:bb']) {
    await cache.getOrSet(key, () => 1)
    clock.t += 6_000
    await cache.getOrSet(key, () => 2)
    await settle()
  }
}

describe('refresh-ahead metrics', () => {
  it('prometheus: cache_refresh_ahead_total counts background reloads by key pattern', async () => {
    const { cache, clock } = refreshingCache()
    const registry = new Registry()
    prometheusMetrics(cache, { registry })
    await refreshTwice(cache, clock)
    const samples = await scrape(registry)
    expect(series(samples, 'cache_refresh_ahead_total', ['cache', 'key_pattern'])).toEqual({
      'cache=default,key_pattern=thermal:rack:*': 2,
    })
    expect((await cache.stats()).loader.refreshes).toBe(2)
  })

  it('OpenTelemetry: cache.refresh_ahead counts the same', async () => {
    const { cache, clock } = refreshingCache()
    const otel = otelHarness()
    openTelemetryMetrics(cache, { meter: otel.meter, tracer: otel.tracer })
    await refreshTwice(cache, clock)
    expect(points(await otel.collect(), 'cache.refresh_ahead')).toEqual({
      'cache=default,key_pattern=thermal:rack:*': 2,
    })
    await otel.shutdown()
  })
})
