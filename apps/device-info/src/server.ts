import { buildAppServer, registerLiveView } from '@strata-cache/app-kit'
import type { FastifyInstance } from 'fastify'
import type { Config } from './config.ts'
import { openDatabase } from './database.ts'
import { DeviceRepository } from './device-repository.ts'
import { DeviceService } from './device-service.ts'
import { routes } from './routes.ts'

/**
 * Builds the service: database, cache, routes. `app.close()` stops accepting, lets requests in
 * flight finish, then closes the cache (Redis connections) and the database.
 */
export function buildServer(config: Config): FastifyInstance {
  return buildAppServer({
    name: 'device-info',
    logLevel: config.logLevel,
    redisUrl: config.redisUrl,
    redisCluster: config.redisCluster,
    adminToken: config.adminToken,
    busSecret: config.busSecret,
    http: config.http,
    errorLogIntervalMs: config.errorLogIntervalMs,
    // Grace lets expired device info be served while the database fails.
    cache: { defaultTtl: config.deviceInfoTtlMs, grace: config.graceMs },
    open: () => openDatabase(config.databasePath),
    routes(app, { resources: db, cache, registry, tracker, figures, admin }) {
      const repository = new DeviceRepository(db, config.maxKeysPerDevice)
      const service = new DeviceService(repository, cache, tracker, config.deviceInfoTtlMs)
      routes(app, { service, cache, registry, figures, admin })
      // GET /dashboard, GET /events: invalidations from every pod, live.
      registerLiveView(app, { name: 'device-info', cache, adminToken: config.adminToken, admin })
    },
  })
}
