import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Registry } from 'prom-client'

/** The handler of a Prometheus scrape endpoint: the registry's text with its content type. */
export function metricsHandler(registry: Registry) {
  return async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics())
}
