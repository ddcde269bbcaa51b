import { buildAppServer, registerLiveView } from '@strata-cache/app-kit'
import type { FastifyInstance } from 'fastify'
import { Counter } from 'prom-client'
import { AnalyticsService } from './analytics-service.ts'
import type { Config } from './config.ts'
import { openDatabase } from './database.ts'
import { EventRepository } from './event-repository.ts'
import { routes } from './routes.ts'

/**
 * Builds the service: database, cache, routes. `app.close()` stops accepting, lets requests in
 * flight finish, then closes the cache (Redis connections) and the database.
 */
export function buildServer(config: Config): FastifyInstance {
  return buildAppServer({
    name: 'analytics',
    logLevel: config.logLevel,
    redisUrl: config.redisUrl,
    redisCluster: config.redisCluster,
    adminToken: config.adminToken,
    busSecret: config.busSecret,
    http: config.http,
    errorLogIntervalMs: config.errorLogIntervalMs,
    // Grace lets an expired aggregate be served while the database fails.
    cache: { defaultTtl: config.ttlMs.day, grace: config.graceMs, degradedL1Ttl: config.degradedL1TtlMs },
    open: () => openDatabase(config.databasePath),
    routes(app, { resources: db, cache, registry, tracker, figures, admin }) {
      const service = new AnalyticsService(new EventRepository(db), cache, tracker, config)
      const ingested = new Counter({
        name: 'analytics_events_ingested_total',
        help: 'Usage events accepted by POST /api/v1/events',
        registers: [registry],
      })
      routes(app, {
        service,
        cache,
        registry,
        ingested,
        figures,
        admin,
        window: { maxAgeMs: config.eventMaxAgeMs, maxAheadMs: config.eventMaxAheadMs },
      })
      // GET /dashboard, GET /events: invalidations from every pod, live.
      registerLiveView(app, { name: 'analytics', cache, adminToken: config.adminToken, admin })
    },
  })
}
