import type { Cache } from '@strata-cache/core'
import Fastify, { type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import { type AppCacheOptions, createAppCache } from './app-cache.ts'
import { CacheStatusTracker } from './cache-status.ts'
import { appErrorHandler } from './error-handler.ts'
import type { LogLevel } from './log-level.ts'
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
}

export interface AppServerOptions<R extends Closable> {
  /** The app's name: the Redis prefix `strata:<name>:` and the metrics' cache name. */
  name: string
  logLevel: LogLevel
  redisUrl: string | undefined
  cache: AppCacheOptions
  /** Opens the app's resources (database), before the cache. */
  open(): R
  /** Builds the app's services and registers its routes. */
  routes(app: FastifyInstance, parts: AppParts<R>): void
}

/**
 * Builds a service: resources, cache, error handler, routes. `app.close()` stops accepting, lets
 * requests in flight finish, then closes the cache (Redis connections) and the resources.
 */
export function buildAppServer<R extends Closable>(options: AppServerOptions<R>): FastifyInstance {
  const app = Fastify({
    logger: { level: options.logLevel },
    forceCloseConnections: 'idle',
  })
  // Bodies are checked as sent ("42" is not a number); path and query values are read as their type.
  app.setValidatorCompiler(requestValidatorCompiler())
  const resources = options.open()
  const { cache, registry, close: closeCache } = createAppCache(options.name, options.redisUrl, options.cache)
  const tracker = new CacheStatusTracker(cache)

  cache.on('error', (event) => {
    app.log.warn({ operation: event.operation, tier: event.tier, err: event.error }, 'cache error absorbed')
  })
  cache.on('breaker', (event) => app.log.warn({ tier: event.tier, state: event.state }, 'circuit breaker'))
  cache.on('bus', (event) => app.log.info({ state: event.state }, 'invalidation bus'))

  app.setErrorHandler(appErrorHandler)
  options.routes(app, { resources, cache, registry, tracker })

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
    await closeCache()
    resources.close()
  })
  return app
}
