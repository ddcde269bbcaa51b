import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { Cache, createEntry } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { openTelemetryMetrics } from '../src/open-telemetry.ts'
import { otelHarness, points } from './helpers/otel.ts'
import { TwoTierStore } from './helpers/two-tier-store.ts'

let clock: { t: number }
const now = () => clock.t
let otel: ReturnType<typeof otelHarness>
const contextManager = new AsyncLocalStorageContextManager()

beforeAll(() => {
  // Only a context manager goes global (for parent spans); meter and tracer are passed explicitly.
  context.setGlobalContextManager(contextManager.enable())
})
afterAll(() => {
  context.disable()
})
beforeEach(() => {
  clock = { t: 1_700_000_000_000 }
  otel = otelHarness()
})
afterEach(async () => {
  await otel.shutdown()
})

function memoryCache(): Cache {
  return new Cache({ store: new MemoryStore({ now }), now, defaultTtl: '10s', grace: '1m' })
}

describe('openTelemetryMetrics', () => {
  it('reports a known sequence through the metrics API, by pattern', async () => {
    const cache = memoryCache()
    openTelemetryMetrics(cache, { meter: otel.meter, tracer: otel.tracer, cacheName: 'thermal' })

    await cache.set('thermal:rack:1:a1b2', 1)
    await cache.get('thermal:rack:1:a1b2')
    await cache.get('thermal:rack:1:a1b2')
    await cache.get('thermal:rack:2:ffff')
    await cache.set('thermal:rack:7:0a0b', 7)
    clock.t += 20_000
    await cache.getOrSet('thermal:rack:7:0a0b', () => {
      throw new RangeError('sensor offline')
    })
    await cache.invalidate('thermal:*')

    const m = await otel.collect()
    expect(points(m, 'cache.hits')).toEqual({ 'cache=thermal,key_pattern=thermal:rack:*,tier=memory': 3 })
    expect(points(m, 'cache.misses')).toEqual({ 'cache=thermal,key_pattern=thermal:rack:*,tier=memory': 1 })
    expect(points(m, 'cache.stale_served')).toEqual({
      'cache=thermal,key_pattern=thermal:rack:*,tier=memory': 1,
    })
    expect(points(m, 'cache.errors')).toEqual({ 'cache=thermal,error_type=RangeError,operation=loader': 1 })
    expect(points(m, 'cache.invalidations')).toEqual({ 'cache=thermal,kind=pattern,source=local': 1 })
    expect(points(m, 'cache.loader.duration')).toEqual({
      'cache=thermal,key_pattern=thermal:rack:*,result=failure': 1,
    })
    expect(points(m, 'cache.keys')).toEqual({ 'cache=thermal,tier=memory': 0 })
    expect(points(m, 'cache.tier.available')).toEqual({ 'cache=thermal,tier=memory': 1 })
    // Cumulative: a second collection without traffic reports the same totals.
    expect(points(await otel.collect(), 'cache.hits')).toEqual({
      'cache=thermal,key_pattern=thermal:rack:*,tier=memory': 3,
    })

    const loader = otel.spans().filter((s) => s.name === 'cache.loader')
    expect(loader).toHaveLength(1)
    expect(loader[0]!.attributes).toEqual({
      'cache.name': 'thermal',
      'cache.key_pattern': 'thermal:rack:*',
      'cache.result': 'failure',
    })
    expect(loader[0]!.status.code).toBe(2) // SpanStatusCode.ERROR
    expect(loader[0]!.events.map((e) => e.name)).toEqual(['exception'])
    const results = otel
      .spans()
      .filter((s) => s.name === 'cache.get' || s.name === 'cache.getOrSet')
      .map((s) => `${s.name}:${s.attributes['cache.result']}`)
    // L1 fast-path hits are not timed; the miss and the stale serve reached the store.
    expect(results).toEqual(['cache.get:miss', 'cache.getOrSet:stale'])
    for (const span of otel.spans()) {
      expect(JSON.stringify(span.attributes)).not.toMatch(/\d/) // no id in any attribute
    }
  })

  it('gives store round trips the tier that answered, and reads tier figures at collection', async () => {
    const store = new TwoTierStore(now)
    const cache = new Cache({ store, now })
    openTelemetryMetrics(cache, { meter: otel.meter, tracer: otel.tracer })
    await store.l2.set('device:info:3:beef', createEntry(3, 10_000, 0, now()))
    await cache.get('device:info:3:beef') // from L2
    await cache.get('device:info:3:beef') // from L1 (filled)
    await cache.get('device:info:4:cafe') // miss
    store.setBreaker('open')
    store.bus.received = 4
    store.bus.rejected = 9

    const spans = otel.spans().map((s) => `${s.attributes['cache.tier']}:${s.attributes['cache.result']}`)
    expect(spans).toEqual(['l2:hit', 'l1:hit', 'tiered:miss'])
    const m = await otel.collect()
    expect(points(m, 'cache.operation.duration')).toEqual({
      'cache=default,operation=get,tier=l1': 1,
      'cache=default,operation=get,tier=l2': 1,
      'cache=default,operation=get,tier=tiered': 1,
    })
    expect(points(m, 'cache.circuit_breaker.state')).toEqual({ 'cache=default,tier=l2': 2 })
    expect(points(m, 'cache.bus.messages.received')).toEqual({ 'cache=default': 4 })
    expect(points(m, 'cache.bus.messages.rejected')).toEqual({ 'cache=default': 9 })
    expect(points(m, 'cache.keys')).toEqual({ 'cache=default,tier=l1': 1, 'cache=default,tier=l2': 1 })
  })

  it("parents loader spans under the operation's, under the caller's active span", async () => {
    const cache = memoryCache()
    openTelemetryMetrics(cache, { meter: otel.meter, tracer: otel.tracer })
    const request = otel.tracer.startSpan('GET /racks/:id')
    await context.with(trace.setSpan(context.active(), request), () =>
      cache.getOrSet('thermal:rack:5:aa', async () => {
        await new Promise((resolve) => setImmediate(resolve))
        return 5
      }),
    )
    request.end()
    // request > cache.getOrSet > cache.loader: the operation's span, started before the work, parents the loader's.
    const operation = otel.spans().find((s) => s.name === 'cache.getOrSet')!
    const loader = otel.spans().find((s) => s.name === 'cache.loader')!
    expect(operation.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
    expect(loader.parentSpanContext?.spanId).toBe(operation.spanContext().spanId)
    expect(loader.spanContext().traceId).toBe(request.spanContext().traceId)
    expect(loader.attributes['cache.result']).toBe('success')
  })

  it('keeps two caches on one meter apart by the cache attribute', async () => {
    const a = memoryCache()
    const b = memoryCache()
    openTelemetryMetrics(a, { meter: otel.meter, cacheName: 'a', spans: false })
    openTelemetryMetrics(b, { meter: otel.meter, cacheName: 'b', spans: false })
    await a.get('x:y:1')
    await b.get('x:y:1')
    await b.get('x:y:2')
    expect(points(await otel.collect(), 'cache.misses')).toEqual({
      'cache=a,key_pattern=x:y:*,tier=memory': 1,
      'cache=b,key_pattern=x:y:*,tier=memory': 2,
    })
    expect(otel.spans()).toEqual([])
  })

  it('stops every update on detach', async () => {
    const cache = memoryCache()
    const detach = openTelemetryMetrics(cache, { meter: otel.meter, tracer: otel.tracer })
    await cache.get('x:y:1')
    detach()
    detach()
    await cache.get('x:y:1')
    await cache.getOrSet('x:y:2', () => 2)
    const m = await otel.collect()
    expect(points(m, 'cache.misses')).toEqual({})
    expect(points(m, 'cache.operation.duration')).toEqual({ 'cache=default,operation=get,tier=memory': 1 })
    expect(otel.spans()).toHaveLength(1)
  })

  it('is a no-op without a registered SDK, and names bad options', async () => {
    const cache = memoryCache()
    const detach = openTelemetryMetrics(cache)
    expect(await cache.getOrSet('x:y:1', () => 1)).toBe(1)
    expect(await cache.get('x:y:1')).toBe(1)
    detach()
    expect(() => openTelemetryMetrics(cache, { meter: {} as never })).toThrow(
      /"meter" must be an OpenTelemetry Meter/,
    )
    expect(() => openTelemetryMetrics(cache, { tracer: {} as never })).toThrow(
      /"tracer" must be an OpenTelemetry Tracer/,
    )
    expect(() => openTelemetryMetrics(cache, { spans: 'yes' as never })).toThrow(/"spans" must be a boolean/)
    expect(() => openTelemetryMetrics(cache, { registry: 1 } as never)).toThrow(/unknown option "registry"/)
  })
})
