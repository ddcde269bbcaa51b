import rateLimit, { type errorResponseBuilderContext } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify'
import { requireAdminToken } from './admin-auth.ts'
import { HttpError } from './http-error.ts'
import type { HttpSettings, RateLimit } from './http-settings.ts'

// The liveness check: probes must never be refused, whatever else a client sent.
const LIVENESS_PATH = '/health'

/** Route options of a cache admin endpoint; spread them into the route's own (`{ ...admin, schema }`). */
export interface AdminRouteOptions {
  /** The admin rate limit first (guesses of the token count too), then the token. */
  onRequest: onRequestHookHandler[]
  /** The admin limit replaces the data plane's on these routes. */
  config: { rateLimit: false }
}

/**
 * Registers `@fastify/rate-limit` for the data plane: at most `rateLimit.max` requests per client
 * address per window on every route but `/health`, counted per pod; past it, 429 `E_RATE_LIMITED`
 * with `Retry-After`. Register routes after it (in a plugin registered next): it hooks the routes
 * declared once it has loaded.
 */
export function registerRateLimit(app: FastifyInstance, settings: HttpSettings): void {
  const { max, windowMs } = settings.rateLimit
  app.register(rateLimit, {
    global: max > 0,
    max,
    timeWindow: windowMs,
    allowList: (request: FastifyRequest) => request.routeOptions.url === LIVENESS_PATH,
    errorResponseBuilder: tooManyRequests(windowMs),
  })
}

/**
 * The options of the cache admin routes of `scope` (where {@link registerRateLimit} has loaded):
 * their own limit per client address, shared by every admin route, then `requireAdminToken`.
 */
export function adminRouteOptions(
  scope: FastifyInstance,
  token: string | undefined,
  limit: RateLimit,
): AdminRouteOptions {
  const onRequest: onRequestHookHandler[] = []
  if (limit.max > 0) {
    const limiter = scope.rateLimit({
      max: limit.max,
      timeWindow: limit.windowMs,
      errorResponseBuilder: tooManyRequests(limit.windowMs),
    })
    onRequest.push(limiter as onRequestHookHandler)
  }
  onRequest.push(requireAdminToken(token) as onRequestHookHandler)
  return { onRequest, config: { rateLimit: false } }
}

function tooManyRequests(windowMs: number) {
  return (_request: FastifyRequest, context: errorResponseBuilderContext): HttpError =>
    new HttpError(
      context.statusCode,
      'E_RATE_LIMITED',
      `too many requests: at most ${context.max} per ${windowText(windowMs)} from one address; retry in ${context.after}`,
    )
}

function windowText(ms: number): string {
  if (ms % 3_600_000 === 0) return ms === 3_600_000 ? 'hour' : `${ms / 3_600_000} hours`
  if (ms % 60_000 === 0) return ms === 60_000 ? 'minute' : `${ms / 60_000} minutes`
  if (ms % 1000 === 0) return ms === 1000 ? 'second' : `${ms / 1000} seconds`
  return `${ms} ms`
}
