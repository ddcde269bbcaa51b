import type { FastifyInstance } from 'fastify'
import type { ThermalService } from '../thermal-service.ts'

const searchQuery = {
  type: 'object',
  required: ['q'],
  errorCode: 'E_BAD_REQUEST',
  properties: {
    q: {
      type: 'string',
      maxLength: 100,
      pattern: '\\S',
      description: '1 to 100 characters (e.g. ?q=dell)',
    },
    limit: {
      type: 'integer',
      minimum: 1,
      maximum: 100,
      default: 20,
      description: 'an integer from 1 to 100',
    },
  },
} as const

/** `GET /api/specs/search?q=dell 2u&limit=20`: every word must match vendor, model or category. */
export function specRoutes(app: FastifyInstance, thermal: ThermalService): void {
  app.get<{ Querystring: { q: string; limit: number } }>(
    '/api/specs/search',
    { schema: { querystring: searchQuery } },
    async (request, reply) => {
      const { value, status } = await thermal.searchSpecs(request.query.q.trim(), request.query.limit)
      return reply.header('x-cache', status).send(value)
    },
  )
}
