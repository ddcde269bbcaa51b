import { badRequest } from '@strata-cache/app-kit'
import type { FastifyInstance } from 'fastify'
import type { ThermalService } from '../thermal-service.ts'

/** `GET /api/specs/search?q=dell 2u&limit=20`: every word must match vendor, model or category. */
export function specRoutes(app: FastifyInstance, thermal: ThermalService): void {
  app.get<{ Querystring: { q?: string; limit?: string } }>('/api/specs/search', async (request, reply) => {
    const q = (request.query.q ?? '').trim()
    if (q.length === 0 || q.length > 100) {
      throw badRequest('query parameter q must be 1 to 100 characters, e.g. ?q=dell')
    }
    const rawLimit = request.query.limit ?? '20'
    if (!/^\d+$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 100) {
      throw badRequest(
        `query parameter limit must be an integer from 1 to 100, got ${JSON.stringify(rawLimit)}`,
      )
    }
    const { value, status } = await thermal.searchSpecs(q, Number(rawLimit))
    return reply.header('x-cache', status).send(value)
  })
}
