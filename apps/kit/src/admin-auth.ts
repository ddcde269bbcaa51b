import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

const REALM = 'Bearer realm="cache-admin"'

/**
 * An onRequest hook for the cache admin endpoints: `Authorization: Bearer <CACHE_ADMIN_TOKEN>`.
 * 401 without credentials (`WWW-Authenticate: Bearer realm="cache-admin"`), 401 with a wrong token
 * (RFC 6750: `error="invalid_token"`), 404 when no token is configured (the endpoints are disabled,
 * so they look like they do not exist).
 */
export function requireAdminToken(token: string | undefined) {
  // Compare digests: equal lengths for timingSafeEqual, and no early exit on the token's length.
  const expected = token === undefined ? undefined : digest(token)
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (expected === undefined) {
      return reply.code(404).send({
        error: 'Not Found',
        code: 'E_ADMIN_DISABLED',
        message: 'cache admin endpoints are disabled: set CACHE_ADMIN_TOKEN to enable them',
      })
    }
    const header = request.headers.authorization
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (match === null) {
      return reply.code(401).header('www-authenticate', REALM).send({
        error: 'Unauthorized',
        code: 'E_ADMIN_TOKEN_MISSING',
        message: 'this endpoint needs an Authorization: Bearer <CACHE_ADMIN_TOKEN> header',
      })
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      return reply.code(401).header('www-authenticate', `${REALM}, error="invalid_token"`).send({
        error: 'Unauthorized',
        code: 'E_ADMIN_TOKEN_WRONG',
        message: 'the bearer token is not the admin token',
      })
    }
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}
