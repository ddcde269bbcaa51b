import {
  type AdminRouteOptions,
  type CacheFigures,
  cacheStatsBody,
  clearCache,
  invalidatePattern,
  metricsHandler,
  tierSummary,
} from '@strata-cache/app-kit'
import type { Cache } from '@strata-cache/core'
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { Db } from '../database.ts'

/**
 * Liveness, details, cache figures and the token-protected cache admin endpoints. The anonymous
 * ones read Redis's figures through `figures`: at most once a second, whoever asks.
 */
export function healthRoutes(
  app: FastifyInstance,
  deps: { cache: Cache; db: Db; registry: Registry; figures: CacheFigures; admin: AdminRouteOptions },
): void {
  const { cache, db, registry, figures, admin } = deps

  // Liveness: the process answers. Nothing external is checked, so a Redis outage never restarts pods.
  app.get('/health', async () => ({ status: 'ok' }))

  app.get('/health/detailed', async (_request, reply) => {
    let database: { status: 'up' | 'down'; message?: string }
    try {
      db.prepare('SELECT 1').get()
      database = { status: 'up' }
    } catch (error) {
      database = { status: 'down', message: String(error) }
    }
    const [health, stats] = await Promise.all([figures.health(), figures.stats()])
    const status = database.status === 'down' || health.status === 'down' ? 'down' : health.status
    return reply.code(status === 'down' ? 503 : 200).send({
      status,
      timestamp: new Date().toISOString(),
      uptimeSeconds: Math.round(process.uptime()),
      database,
      cache: { status: health.status, checks: health.checks, tiers: tierSummary(cache, stats.tiers) },
    })
  })

  app.get('/health/cache/stats', async () => cacheStatsBody(cache, await figures.stats()))

  app.post('/health/cache/clear', admin, async () => clearCache(cache))

  app.delete<{ Params: { pattern: string } }>('/health/cache/invalidate/:pattern', admin, async (request) => {
    const { pattern } = request.params
    return invalidatePattern(cache, pattern)
  })

  app.get('/metrics', metricsHandler(registry))
}
