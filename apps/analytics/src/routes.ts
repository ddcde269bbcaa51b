import {
  badRequest,
  cacheStatsBody,
  clearCache,
  invalidatePattern,
  metricsHandler,
  requireAdminToken,
} from '@strata-cache/app-kit'
import type { Cache } from '@strata-cache/core'
import type { FastifyInstance } from 'fastify'
import type { Counter, Registry } from 'prom-client'
import type { AggregateFilters, AnalyticsService } from './analytics-service.ts'
import { parseEvents, parseName } from './event-input.ts'

type AggregateQuery = { timeframe?: string; user?: string; agent?: string; workspace?: string }

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

  app.post('/api/v1/events', async (request, reply) => {
    const events = parseEvents(request.body, Date.now())
    await service.ingest(events)
    ingested.inc(events.length)
    return reply.code(202).send({ accepted: events.length })
  })

  app.get<{ Params: { metric: string }; Querystring: AggregateQuery }>(
    '/api/v1/analytics/:metric',
    async (request, reply) => {
      const metric = parseName(request.params.metric, 'metric')
      const q = request.query
      const filters: AggregateFilters = {}
      for (const field of ['user', 'agent', 'workspace'] as const) {
        if (q[field] !== undefined) filters[field] = parseName(q[field], field)
      }
      const { value, status } = await service.aggregate(metric, q.timeframe ?? '7d', filters)
      return reply.header('x-cache', status).send(value)
    },
  )

  app.get('/api/v1/cache/stats', { onRequest: admin }, async () => cacheStatsBody(cache))

  app.post('/api/v1/cache/clear', { onRequest: admin }, async () => clearCache(cache))

  app.post<{ Body: { pattern?: unknown } | undefined }>(
    '/api/v1/cache/invalidate',
    { onRequest: admin },
    async (request) => {
      const pattern = request.body?.pattern
      if (typeof pattern !== 'string')
        throw badRequest(
          'body must be {"pattern": "<glob>"}, e.g. {"pattern": "analytics:metric:tokens:*"}',
          'E_INVALID_PATTERN',
        )
      return invalidatePattern(cache, pattern)
    },
  )

  app.get('/api/v1/metrics', metricsHandler(registry))
}
