import { CacheError, CacheErrorCode } from '@strata-cache/core'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { HttpError } from './http-error.ts'

// Cache errors caused by what the request sent (a bad key or pattern): the client's fault, a 400.
const INPUT_CODES: ReadonlySet<string> = new Set([
  CacheErrorCode.INVALID_KEY,
  CacheErrorCode.INVALID_PATTERN,
  CacheErrorCode.INVALID_DURATION,
  CacheErrorCode.INVALID_OPTION,
])

/**
 * Answers every error as JSON `{ error, code, message }`: HttpError with its status, request
 * input the cache rejects and schema failures as 400, other 4xx as Fastify set them, anything
 * else as a logged 500 that does not leak the cause.
 */
export function appErrorHandler(
  error: FastifyError | HttpError | CacheError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (error instanceof HttpError) {
    return reply
      .code(error.statusCode)
      .headers(error.headers)
      .send({ error: reasonOf(error.statusCode), code: error.code, message: error.message })
  }
  if (CacheError.is(error) && INPUT_CODES.has(error.code)) {
    return reply.code(400).send({ error: 'Bad Request', code: error.code, message: error.message })
  }
  const fastifyError = error as FastifyError
  if (fastifyError.validation !== undefined) {
    return reply.code(400).send({ error: 'Bad Request', code: 'E_VALIDATION', message: fastifyError.message })
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
      429: 'Too Many Requests',
      503: 'Service Unavailable',
    }[status] ?? 'Error'
  )
}
