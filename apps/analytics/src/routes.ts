import {
  cacheStatsBody,
  clearCache,
  invalidatePattern,
  metricsHandler,
  patternBody,
  requireAdminToken,
} from '@strata-cache/app-kit'
import type { Cache } from '@strata-cache/core'
import type { FastifyInstance } from 'fastify'
import type { Counter, Registry } from 'prom-client'
import type { AggregateFilters, AnalyticsService } from './analytics-service.ts'
import { type EventsBody, eventsBodySchema, nameSchema, readEvents } from './event-input.ts'
import { TIMEFRAMES, type TimeframeName } from './timeframe.ts'

const metricParams = { type: 'object', required: ['metric'], properties: { metric: nameSchema } } as const

const aggregateQuery = {
  type: 'object',
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
  },
} as const

type AggregateQuery = AggregateFilters & { timeframe: TimeframeName }

/** Every endpoint of the service, under /api/v1 except the liveness check. */
export function routes(
  app: FastifyInstance,
  deps: {
    service: AnalyticsService
    cache: Cache
    registry: Registry
    ingested: Counter<string>
    adminToken: string | undefined
  },
): void {
  const { service, cache, registry, ingested } = deps
  const admin = requireAdminToken(deps.adminToken)

  app.get('/health', async () => ({ status: 'ok' }))

  app.post<{ Body: EventsBody }>(
    '/api/v1/events',
    { schema: { body: eventsBodySchema } },
    async (request, reply) => {
      const events = readEvents(request.body, Date.now())
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
      return reply.header('x-cache', status).send(value)
    },
  )

  app.get('/api/v1/cache/stats', { onRequest: admin }, async () => cacheStatsBody(cache))

  app.post('/api/v1/cache/clear', { onRequest: admin }, async () => clearCache(cache))

  app.post<{ Body: { pattern: string } }>(
    '/api/v1/cache/invalidate',
    { onRequest: admin, schema: { body: patternBody } },
    async (request) => invalidatePattern(cache, request.body.pattern),
  )

  app.get('/api/v1/metrics', metricsHandler(registry))
}
