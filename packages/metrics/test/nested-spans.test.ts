import { context, SpanStatusCode } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { Cache } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { createCache } from '@strata-cache/tiered'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { openTelemetryMetrics } from '../src/open-telemetry.ts'
import { otelHarness } from './helpers/otel.ts'

const contextManager = new AsyncLocalStorageContextManager()
let otel: ReturnType<typeof otelHarness>

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable())
})
afterAll(() => {
  context.disable()
})
beforeEach(() => {
  otel = otelHarness()
})
afterEach(async () => {
  await otel.shutdown()
})

const byName = (name: string) => otel.spans().filter((s) => s.name === name)
const one = (name: string): ReadableSpan => {
  const found = byName(name)
  expect(found, name).toHaveLength(1)
  return found[0]!
}
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId
const idOf = (span: ReadableSpan) => span.spanContext().spanId
const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6

describe('OpenTelemetry spans that nest', () => {
  it("a loader's own span nests under cache.loader, under cache.getOrSet, each started before its work", async () => {
    const cache = new Cache({ store: new MemoryStore() })
    openTelemetryMetrics(cache, { meter: otel.meter, tracer: otel.tracer })
    const value = await cache.getOrSet('thermal:rack:1:aa', () =>
      otel.tracer.startActiveSpan('db.query', async (span) => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        span.end()
        return 42
      }),
    )
    expect(value).toBe(42)
    const operation = one('cache.getOrSet')
    const loader = one('cache.loader')
    const query = one('db.query')
    expect(parentOf(query)).toBe(idOf(loader))
    expect(parentOf(loader)).toBe(idOf(operation))
    expect(parentOf(operation)).toBeUndefined()
    // Started before the work, ended after it. The SDK turns each span's monotonic time into epoch
    // time with an offset it takes from Date.now() when that span starts (1 ms resolution), so two
    // spans' clocks may differ by up to a millisecond: compare within that, the work itself takes 5 ms.
    const CLOCKS = 1
    expect(ms(operation.startTime)).toBeLessThanOrEqual(ms(loader.startTime) + CLOCKS)
    expect(ms(loader.startTime)).toBeLessThanOrEqual(ms(query.startTime) + CLOCKS)
    expect(ms(query.endTime)).toBeLessThanOrEqual(ms(loader.endTime) + CLOCKS)
    expect(ms(loader.endTime)).toBeLessThanOrEqual(ms(operation.endTime) + CLOCKS)
    expect(ms(query.endTime) - ms(query.startTime)).toBeGreaterThanOrEqual(4)
    expect(ms(loader.endTime) - ms(loader.startTime)).toBeGreaterThanOrEqual(4)
    expect(loader.attributes).toMatchObject({
      'cache.name': 'default',
      'cache.key_pattern': 'thermal:rack:*',
      'cache.result': 'success',
    })
    expect(operation.attributes).toMatchObject({ 'cache.operation': 'getOrSet', 'cache.result': 'miss' })
    expect(JSON.stringify(otel.spans().map((s) => s.attributes))).not.toContain('thermal:rack:1:aa')
  })

  it('a failing loader ends its span failed, with the exception; the operation fails too', async () => {
    const cache = new Cache({ store: new MemoryStore() })
    openTelemetryMetrics(cache, { meter: otel.meter, tracer: otel.tracer })
    await expect(cache.getOrSet('x:y:1', () => Promise.reject(new Error('db down')))).rejects.toThrow(
      'db down',
    )
    const loader = one('cache.loader')
    expect(loader.status).toEqual({ code: SpanStatusCode.ERROR, message: 'db down' })
    expect(loader.attributes['cache.result']).toBe('failure')
    expect(loader.events.map((e) => e.name)).toEqual(['exception'])
    expect(one('cache.getOrSet').status.code).toBe(SpanStatusCode.ERROR)
    // One span per operation: the events complete the span, they do not add another.
    expect(otel.spans()).toHaveLength(2)
  })

  it('getOrSetMany: one cache.loader for the batch under its cache.getOrSetMany', async () => {
    const cache = new Cache({ store: new MemoryStore() })
    openTelemetryMetrics(cache, { meter: otel.meter, tracer: otel.tracer })
    await cache.getOrSetMany(['a:b:1', 'a:b:2'], async (keys) => Object.fromEntries(keys.map((k) => [k, k])))
    const batch = one('cache.getOrSetMany')
    expect(parentOf(one('cache.loader'))).toBe(idOf(batch))
    expect(one('cache.loader').attributes['cache.keys']).toBe(2)
  })

  it('detaching removes the hook: no more spans', async () => {
    const cache = new Cache({ store: new MemoryStore() })
    const detach = openTelemetryMetrics(cache, { meter: otel.meter, tracer: otel.tracer })
    detach()
    await cache.getOrSet('x:y:1', () => 1)
    expect(otel.spans()).toEqual([])
  })

  describe('with Redis: a span per round trip, on request', () => {
    let server: RedisServer
    beforeAll(async () => {
      server = await startRedisServer({ ownServer: true })
    })
    afterAll(async () => {
      await server?.stop()
    })

    async function pod(storeSpans: boolean): Promise<Cache> {
      const cache = createCache({ redisUrl: server.url, prefix: `spans${storeSpans}:`, defaultTtl: '1m' })
      await vi.waitFor(async () => expect((await cache.health()).status).toBe('up'), { timeout: 10_000 })
      openTelemetryMetrics(cache, { meter: otel.meter, tracer: otel.tracer, storeSpans })
      return cache
    }

    it('storeSpans: redis.* spans under cache.get and cache.loader', async () => {
      const cache = await pod(true)
      try {
        await cache.get('thermal:rack:9:zz')
        const get = one('cache.get')
        const reads = byName('redis.get').filter((s) => parentOf(s) === idOf(get))
        expect(reads).toHaveLength(1)
        expect(reads[0]!.attributes).toMatchObject({ 'db.system': 'redis', 'db.operation.name': 'get' })
        await cache.getOrSet('thermal:rack:9:zz', () => 9)
        const operation = one('cache.getOrSet')
        const children = otel.spans().filter((s) => parentOf(s) === idOf(operation))
        expect(children.map((s) => s.name)).toContain('cache.loader')
        // The fill's write (a script) is a round trip under the operation too.
        expect(children.map((s) => s.name)).toContain('redis.set')
      } finally {
        await cache.close()
      }
    })

    it('without storeSpans: no redis.* spans', async () => {
      const cache = await pod(false)
      try {
        await cache.getOrSet('thermal:rack:8:zz', () => 8)
        expect(otel.spans().filter((s) => s.name.startsWith('redis.'))).toEqual([])
        expect(byName('cache.getOrSet')).toHaveLength(1)
      } finally {
        await cache.close()
      }
    })
  })
})
