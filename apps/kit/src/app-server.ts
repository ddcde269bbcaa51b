import type { Cache } from '@strata-cache/core'
import type { CacheClusterOptions } from '@strata-cache/tiered'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { type AppCacheOptions, createAppCache } from './app-cache.ts'
import { CacheFigures } from './cache-figures.ts'
import { CacheStatusTracker } from './cache-status.ts'
import { appErrorHandler } from './error-handler.ts'
import { ErrorLogSampler } from './error-log-sampler.ts'
import type { HttpSettings } from './http-settings.ts'
import type { LogLevel } from './log-level.ts'
import { requireQuerySchema } from './query-strings.ts'
import { type AdminRouteOptions, adminRouteOptions, registerRateLimit } from './rate-limits.ts'
import { requestValidatorCompiler } from './request-validation.ts'

/** What the app opens before its cache (its database) and closes last. */
export interface Closable {
  close(): unknown
}

/** What an app's routes are built from. */
export interface AppParts<R extends Closable> {
  /** What `open` returned (the database). */
  resources: R
  cache: Cache
  registry: Registry
  tracker: CacheStatusTracker
  /** Health and stats figures, Redis's part read at most once a second. */
  figures: CacheFigures
  /** Spread into every cache admin route: its rate limit, then the bearer token. */
  admin: AdminRouteOptions
}

export interface AppServerOptions<R extends Closable> {
  /** The app's name: the Redis prefix `strata:<name>:` and the metrics' cache name. */
  name: string
  logLevel: LogLevel
  redisUrl: string | undefined
  /** A Redis Cluster instead of `redisUrl` (REDIS_CLUSTER_NODES). @default none */
  redisCluster?: CacheClusterOptions | undefined
  /** The bearer token of the cache admin endpoints; undefined: they answer 404. */
  adminToken: string | undefined
  /** Signs the invalidation bus (and application channels); every pod of the app needs the same. @default unsigned */
  busSecret?: readonly string[] | undefined
  /** Proxy trust and the rate limits. */
  http: HttpSettings
  /** Repeats of a cache error within this long are logged as one count. @default 10000 */
  errorLogIntervalMs?: number
  cache: AppCacheOptions
  /** Opens the app's resources (database), before the cache. */
  open(): R
  /** Builds the app's services and registers its routes. */
  routes(app: FastifyInstance, parts: AppParts<R>): void
}

/**
 * Builds a service: resources, cache, error handler, rate limits, routes. Every route gets a
 * querystring schema (none declared: no parameter accepted). `app.close()` stops accepting, lets
 * requests in flight finish, then closes the cache (Redis connections) and the resources.
 */
export function buildAppServer<R extends Closable>(options: AppServerOptions<R>): FastifyInstance {
  const app = Fastify({
    logger: { level: options.logLevel },
    forceCloseConnections: 'idle',
    // Believe X-Forwarded-For from the nearest `trustProxy` hops only (0: the peer's own address).
    trustProxy: (_address: string, hop: number) => hop < options.http.trustProxy,
  })
  // Bodies are checked as sent ("42" is not a number); path and query values are read as their type.
  app.setValidatorCompiler(requestValidatorCompiler())
  const resources = options.open()
  const cacheOptions =
    options.busSecret === undefined
      ? options.cache
      : { ...options.cache, bus: { ...options.cache.bus, secret: [...options.busSecret] } }
  const {
    cache,
    registry,
    close: closeCache,
  } = createAppCache(options.name, options.redisUrl, cacheOptions, options.redisCluster)
  const tracker = new CacheStatusTracker(cache)
  const figures = new CacheFigures(cache)

  // State changes in full; an error in full the first time, then its repeats as a count.
  const errors = new ErrorLogSampler(app.log, options.errorLogIntervalMs)
  cache.on('error', (event) => errors.error(event))
  cache.on('breaker', (event) => {
    errors.stateChanged()
    app.log.warn({ tier: event.tier, state: event.state }, 'circuit breaker')
  })
  cache.on('bus', (event) => {
    errors.stateChanged()
    app.log.info({ state: event.state }, 'invalidation bus')
  })

  app.setErrorHandler(appErrorHandler)
  app.addHook('onRoute', requireQuerySchema)
  registerRateLimit(app, options.http)
  // Routes go in a plugin registered after the rate limiter, so that its hooks reach them.
  app.register(async (scope) => {
    const admin = adminRouteOptions(scope, options.adminToken, options.http.adminRateLimit)
    options.routes(scope, { resources, cache, registry, tracker, figures, admin })
  })

  // Once closing, answers in flight tell keep-alive clients to hang up, so close() need not wait for them.
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close')
    return payload
  })

  app.addHook('onClose', async () => {
    tracker.close()
    figures.close()
    errors.flush()
    await closeCache()
    resources.close()
  })
  return app
}
