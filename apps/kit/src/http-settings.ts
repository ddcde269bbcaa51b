import { envDuration, envInteger } from './env-readers.ts'

/** At most `max` requests per client address per `windowMs`, counted per pod; `max` 0: no limit. */
export interface RateLimit {
  max: number
  windowMs: number
}

/** What stands between the open network and a service's routes. */
export interface HttpSettings {
  /**
   * Proxies in front of the service (ingress, load balancer) whose `X-Forwarded-For` is believed:
   * the client address the rate limits count is the one they saw. 0: the peer's own address.
   */
  trustProxy: number
  /** Every route but the liveness check `/health`. */
  rateLimit: RateLimit
  /** The cache admin endpoints, counted before the token is checked (guesses count too). */
  adminRateLimit: RateLimit
}

/**
 * Reads TRUST_PROXY (hops, default 0), RATE_LIMIT_MAX (default 600) and RATE_LIMIT_WINDOW (default
 * 1m), ADMIN_RATE_LIMIT_MAX (default 10) and ADMIN_RATE_LIMIT_WINDOW (default 1m), in that order.
 */
export function envHttpSettings(env: NodeJS.ProcessEnv): HttpSettings {
  return {
    trustProxy: envInteger(env, 'TRUST_PROXY', 0, 0, 10),
    rateLimit: {
      max: envInteger(env, 'RATE_LIMIT_MAX', 600, 0, 1_000_000),
      windowMs: envDuration(env, 'RATE_LIMIT_WINDOW', '1m'),
    },
    adminRateLimit: {
      max: envInteger(env, 'ADMIN_RATE_LIMIT_MAX', 10, 0, 1_000_000),
      windowMs: envDuration(env, 'ADMIN_RATE_LIMIT_WINDOW', '1m'),
    },
  }
}
