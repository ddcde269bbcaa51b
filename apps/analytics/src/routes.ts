import {
  type AdminRouteOptions,
  type CacheFigures,
  cacheStatsBody,
  clearCache,
  invalidatePattern,
  limitParam,
  metricsHandler,
  pageAfter,
  patternBody,
} from '@strata-cache/app-kit'
import type { Cache } from '@strata-cache/core'
import type { FastifyInstance } from 'fastify'
import type { Counter, Registry } from 'prom-client'
import type { AggregateFilters, AnalyticsService } from './analytics-service.ts'
import {
  type EventsBody,
  type EventWindow,
  eventsBodySchema,
  ISO_8601,
  nameSchema,
  readEvents,
} from './event-input.ts'
import { TIMEFRAMES, type TimeframeName } from './timeframe.ts'

const metricParams = { type: 'object', required: ['metric'], properties: { metric: nameSchema } } as const

const aggregateQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    timeframe: {
      enum: Object.keys(TIMEFRAMES),
      default: '7d',
      errorCode: 'E_INVALID_TIMEFRAME',
      errorMessage: `unknown timeframe {value} (use one of ${Object.keys(TIMEFRAMES).join(', ')})`,
    },
    user: nameSchema,
    agent: nameSchema,
    workspace: nameSchema,
    // A page of the series: `limit` buckets after the bucket that starts at `after`.
    limit: limitParam(200, 1_000),
    after: {
      type: 'string',
      pattern: ISO_8601,
      description: 'the bucketStart of the last bucket seen, an ISO 8601 date-time',
    },
  },
} as const

type AggregateQuery = AggregateFilters & { timeframe: TimeframeName; limit: number; after?: string }

/** Every endpoint of the service, under /api/v1 except the liveness check. */
export function routes(
  app: FastifyInstance,
  deps: {
    service: AnalyticsService
    cache: Cache
    registry: Registry
    ingested: Counter<string>
    figures: CacheFigures
    admin: AdminRouteOptions
    window: EventWindow
  },
): void {
  const { service, cache, registry, ingested, figures, admin, window } = deps

  app.get('/health', async () => ({ status: 'ok' }))

  app.post<{ Body: EventsBody }>(
    '/api/v1/events',
    { schema: { body: eventsBodySchema } },
    async (request, reply) => {
      const events = readEvents(request.body, Date.now(), window)
      await service.ingest(events)
      ingested.inc(events.length)
      return reply.code(202).send({ accepted: events.length })
    },
  )

  app.get<{ Params: { metric: string }; Querystring: AggregateQuery }>(
    '/api/v1/analytics/:metric',
    { schema: { params: metricParams, querystring: aggregateQuery } },
    async (request, reply) => {
      const { query } = request
      // Only the known filters, and only those given: they are part of the cache key.
      const filters: AggregateFilters = {}
      for (const field of ['user', 'agent', 'workspace'] as const) {
        if (query[field] !== undefined) filters[field] = query[field]
      }
      const { value, status } = await service.aggregate(request.params.metric, query.timeframe, filters)
      // One cached entry per timeframe and filters; a page is cut from it.
      const after = query.after === undefined ? undefined : new Date(Date.parse(query.after)).toISOString()
      const page = pageAfter(value.series, (bucket) => bucket.bucketStart, after, query.limit)
      return reply
        .header('x-cache', status)
        .send({ ...value, series: page.items, seriesTotal: value.series.length, next: page.next })
    },
  )

  app.get('/api/v1/cache/stats', admin, async () => cacheStatsBody(cache, await figures.stats()))

  app.post('/api/v1/cache/clear', admin, async () => clearCache(cache))

  app.post<{ Body: { pattern: string } }>(
    '/api/v1/cache/invalidate',
    { ...admin, schema: { body: patternBody } },
    async (request) => invalidatePattern(cache, request.body.pattern),
  )

  app.get('/api/v1/metrics', metricsHandler(registry))
}
