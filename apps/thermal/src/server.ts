import { buildAppServer } from '@strata-cache/app-kit'
import type { FastifyInstance } from 'fastify'
import { Gauge } from 'prom-client'
import { ComputationSlots } from './computation-slots.ts'
import type { Config } from './config.ts'
import { openDatabase } from './database.ts'
import { RackRepository } from './rack-repository.ts'
import { RackService } from './rack-service.ts'
import { healthRoutes } from './routes/health-routes.ts'
import { rackRoutes } from './routes/rack-routes.ts'
import { specRoutes } from './routes/spec-routes.ts'
import { seedSampleRacks } from './sample-racks.ts'
import { thermalLive } from './thermal-live.ts'
import { ThermalService } from './thermal-service.ts'

/**
 * Builds the service: database, cache, routes. `app.close()` stops accepting, lets requests in
 * flight finish, then closes the cache (Redis connections) and the database.
 */
export function buildServer(config: Config): FastifyInstance {
  return buildAppServer({
    name: 'thermal',
    logLevel: config.logLevel,
    redisUrl: config.redisUrl,
    redisCluster: config.redisCluster,
    adminToken: config.adminToken,
    busSecret: config.busSecret,
    http: config.http,
    errorLogIntervalMs: config.errorLogIntervalMs,
    // Grace and a soft timeout let an expired analysis be served stale while a fresh one is computed.
    cache: {
      defaultTtl: config.thermalTtlMs,
      grace: config.graceMs,
      softTimeout: config.softTimeoutMs,
      // A pod waiting for another pod's optimization (seconds) waits this long before computing itself.
      lockWait: '30s',
    },
    open() {
      const db = openDatabase(config.databasePath)
      if (config.seedSampleRacks) seedSampleRacks(db)
      return db
    },
    routes(app, { resources: db, cache, registry, tracker, figures, admin }) {
      const repository = new RackRepository(db)
      const inFlight = new Gauge({
        name: 'thermal_computations_in_flight',
        help: 'Thermal analyses and optimizations this pod is computing',
        labelNames: ['kind'],
        registers: [registry],
      })
      for (const kind of ['analysis', 'optimization']) inFlight.set({ kind }, 0)
      const slots = new ComputationSlots(config.maxConcurrentComputations)
      const thermal = new ThermalService(repository, cache, tracker, config, slots, (kind) => {
        inFlight.inc({ kind })
        return () => inFlight.dec({ kind })
      })
      healthRoutes(app, { cache, db, registry, figures, admin })
      // The dashboard, SSE events and control channel; rack writes are announced to every pod.
      const live = thermalLive(app, {
        cache,
        repository,
        thermal,
        adminToken: config.adminToken,
        warmIntervalMs: config.warmIntervalMs,
        admin,
      })
      rackRoutes(app, new RackService(repository, live.racks), thermal)
      specRoutes(app, thermal)
    },
  })
}
