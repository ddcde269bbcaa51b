import { Cache, CacheError, CacheErrorCode } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { openTelemetryMetrics, prometheusMetrics } from '../src/index.ts'
import { loadOptionalPeer, type OptionalPeer } from '../src/optional-peer.ts'
import { prometheusMetrics as prometheusFromSubpath } from '../src/prometheus.ts'
import { scrape, series } from './helpers/scrape.ts'

// The root entry loads its peers on first call (the built package's entries are checked by
// scripts/check-optional-peers.mjs, `pnpm check:peers`); here, that the lazy exporters behave as the subpath ones.
describe('the root entry', () => {
  it('prometheusMetrics loads prom-client when called and registers the same metrics', async () => {
    const cache = new Cache({ store: new MemoryStore(), defaultTtl: '1m' })
    const registry = new Registry()
    const detach = prometheusMetrics(cache, { registry })
    await cache.set('thermal:rack:1:a1b2c3', 1)
    await cache.get('thermal:rack:1:a1b2c3')
    expect(series(await scrape(registry), 'cache_hits_total', ['cache', 'tier', 'key_pattern'])).toEqual({
      'cache=default,tier=memory,key_pattern=thermal:rack:*': 1,
    })
    // One table per registry whichever entry attached: a second cache of the same name is refused.
    const other = new Cache({ store: new MemoryStore(), defaultTtl: '1m' })
    expect(() => prometheusFromSubpath(other, { registry })).toThrow(/already attached/)
    detach()
    expect(await registry.getMetricsAsJSON()).toEqual([])
    await cache.close()
    await other.close()
  })

  it('openTelemetryMetrics loads @opentelemetry/api when called (no SDK: no-op instruments)', async () => {
    const cache = new Cache({ store: new MemoryStore(), defaultTtl: '1m' })
    const detach = openTelemetryMetrics(cache, { cacheName: 'root' })
    await cache.set('k', 1)
    expect(await cache.get('k')).toBe(1)
    detach()
    await cache.close()
  })

  it('a missing peer is a CacheOptionError naming the package and the install command', () => {
    const missing = '@strata-cache/no-such-peer' as OptionalPeer
    let error: unknown
    try {
      loadOptionalPeer(missing, 'prometheusMetrics')
    } catch (caught) {
      error = caught
    }
    expect(CacheError.is(error, CacheErrorCode.INVALID_OPTION), String(error)).toBe(true)
    expect((error as Error).message).toContain(
      'prometheusMetrics needs the optional peer dependency "@strata-cache/no-such-peer", which is not installed: run `pnpm add @strata-cache/no-such-peer`',
    )
  })
})
