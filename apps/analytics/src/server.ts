import { CacheError, CacheErrorCode } from '@strata-cache/core'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import { Counter } from 'prom-client'
import { AnalyticsService } from './analytics-service.ts'
import { createAppCache } from './app-cache.ts'
import { CacheStatusTracker } from './cache-status.ts'
import type { Config } from './config.ts'
import { openDatabase } from './database.ts'
import { EventRepository } from './event-repository.ts'
import { HttpError } from './http-error.ts'
import { routes } from './routes.ts'

const INPUT_CODES: ReadonlySet<string> = new Set([
  CacheErrorCode.INVALID_KEY,
  CacheErrorCode.INVALID_PATTERN,
  CacheErrorCode.INVALID_DURATION,
  CacheErrorCode.INVALID_OPTION,
])

/**
 * Builds the service: database, cache, routes. `app.close()` stops accepting, lets requests in
 * flight finish, then closes the cache (Redis connections) and the database.
 */
export function buildServer(config: Config): FastifyInstance {
  const app = Fastify({
    logger: { level: config.logLevel },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    forceCloseConnections: 'idle',
  })
  const db = openDatabase(config.databasePath)
  const { cache, registry, close: closeCache } = createAppCache(config)
  const tracker = new CacheStatusTracker(cache)
  const service = new AnalyticsService(new EventRepository(db), cache, tracker, config)
  const ingested = new Counter({
    name: 'analytics_events_ingested_total',
    help: 'Usage events accepted by POST /api/v1/events',
    registers: [registry],
  })

  cache.on('error', (event) => {
    app.log.warn({ operation: event.operation, tier: event.tier, err: event.error }, 'cache error absorbed')
  })
  cache.on('breaker', (event) => app.log.warn({ tier: event.tier, state: event.state }, 'circuit breaker'))
  cache.on('bus', (event) => app.log.info({ state: event.state }, 'invalidation bus'))

  app.setErrorHandler((error: FastifyError | HttpError | CacheError, request, reply) => {
    if (error instanceof HttpError) {
      return reply
        .code(error.statusCode)
        .send({ error: reasonOf(error.statusCode), code: error.code, message: error.message })
    }
    if (CacheError.is(error) && INPUT_CODES.has(error.code)) {
      return reply.code(400).send({ error: 'Bad Request', code: error.code, message: error.message })
    }
    const fastifyError = error as FastifyError
    if (fastifyError.validation !== undefined) {
      return reply
        .code(400)
        .send({ error: 'Bad Request', code: 'E_VALIDATION', message: fastifyError.message })
    }
    const status = fastifyError.statusCode ?? 500
    if (status >= 400 && status < 500) {
      return reply
        .code(status)
        .send({ error: reasonOf(status), code: fastifyError.code ?? 'E_REQUEST', message: error.message })
    }
    request.log.error({ err: error }, 'request failed')
    return reply.code(500).send({
      error: 'Internal Server Error',
      code: 'E_INTERNAL',
      message: 'the request failed; see the service log',
    })
  })

  routes(app, { service, cache, registry, ingested, adminToken: config.adminToken })

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
    db.close()
  })
  return app
}

function reasonOf(status: number): string {
  return (
    {
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      409: 'Conflict',
      413: 'Payload Too Large',
      415: 'Unsupported Media Type',
    }[status] ?? 'Error'
  )
}
