import { parseId } from '@strata-cache/app-kit'
import type { FastifyInstance } from 'fastify'
import type { PositionInput, RackInput } from '../rack-repository.ts'
import type { RackService } from '../rack-service.ts'
import { parseModelParams, type ThermalService } from '../thermal-service.ts'

const rackBody = {
  type: 'object',
  required: ['name', 'heightU'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    heightU: { type: 'integer', minimum: 1, maximum: 60 },
  },
} as const

const positionBody = {
  type: 'object',
  required: ['name', 'startU', 'heightU', 'powerWatts'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    startU: { type: 'integer', minimum: 1, maximum: 60 },
    heightU: { type: 'integer', minimum: 1, maximum: 60 },
    powerWatts: { type: 'number', minimum: 0, maximum: 100_000 },
  },
} as const

type IdParams = { id: string }
type Query = Record<string, string | undefined>

/** Racks, positions and the cached computations over them (a write's invalidation is the service's). */
export function rackRoutes(app: FastifyInstance, racks: RackService, thermal: ThermalService): void {
  app.post<{ Body: RackInput }>('/api/racks', { schema: { body: rackBody } }, async (request, reply) => {
    return reply.code(201).send(racks.create(request.body))
  })

  app.get('/api/racks', async () => ({ racks: racks.list() }))

  app.get<{ Params: IdParams }>('/api/racks/:id', async (request) =>
    racks.get(parseId(request.params.id, 'rack id')),
  )

  app.put<{ Params: IdParams; Body: RackInput }>(
    '/api/racks/:id',
    { schema: { body: rackBody } },
    async (request) => {
      return racks.update(parseId(request.params.id, 'rack id'), request.body)
    },
  )

  app.delete<{ Params: IdParams }>('/api/racks/:id', async (request, reply) => {
    await racks.delete(parseId(request.params.id, 'rack id'))
    return reply.code(204).send()
  })

  app.post<{ Params: IdParams; Body: PositionInput }>(
    '/api/racks/:id/positions',
    { schema: { body: positionBody } },
    async (request, reply) => {
      const position = await racks.addPosition(parseId(request.params.id, 'rack id'), request.body)
      return reply.code(201).send(position)
    },
  )

  app.delete<{ Params: IdParams & { positionId: string } }>(
    '/api/racks/:id/positions/:positionId',
    async (request, reply) => {
      const id = parseId(request.params.id, 'rack id')
      await racks.deletePosition(id, parseId(request.params.positionId, 'position id'))
      return reply.code(204).send()
    },
  )

  app.get<{ Params: IdParams; Querystring: Query }>(
    '/api/racks/:id/thermal-analysis',
    async (request, reply) => {
      const id = parseId(request.params.id, 'rack id')
      const { value, status } = await thermal.analysis(id, parseModelParams(request.query))
      return reply.header('x-cache', status).send(value)
    },
  )

  app.get<{ Params: IdParams; Querystring: Query }>('/api/racks/:id/optimization', async (request, reply) => {
    const id = parseId(request.params.id, 'rack id')
    const { value, status } = await thermal.optimization(id, parseModelParams(request.query))
    return reply.header('x-cache', status).send(value)
  })
}
