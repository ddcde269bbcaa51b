import { idParam } from '@strata-cache/app-kit'
import type { FastifyInstance } from 'fastify'
import type { PositionInput, RackInput } from '../rack-repository.ts'
import type { RackService } from '../rack-service.ts'
import { FINE_MODEL } from '../thermal-model.ts'
import type { ModelParams, ThermalService } from '../thermal-service.ts'

const name = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  description: 'a string of 1 to 200 characters',
} as const
const unit = { type: 'integer', minimum: 1, maximum: 60, description: 'an integer from 1 to 60' } as const

const rackBody = {
  type: 'object',
  required: ['name', 'heightU'],
  additionalProperties: false,
  properties: { name, heightU: unit },
} as const

const positionBody = {
  type: 'object',
  required: ['name', 'startU', 'heightU', 'powerWatts'],
  additionalProperties: false,
  properties: {
    name,
    startU: unit,
    heightU: unit,
    powerWatts: { type: 'number', minimum: 0, maximum: 100_000, description: 'a number from 0 to 100000' },
  },
} as const

const rackParams = { type: 'object', required: ['id'], properties: { id: idParam('rack id') } } as const
const positionParams = {
  type: 'object',
  required: ['id', 'positionId'],
  properties: { id: idParam('rack id'), positionId: idParam('position id') },
} as const

function celsius(min: number, max: number, fallback: number) {
  return {
    type: 'number',
    minimum: min,
    maximum: max,
    default: fallback,
    description: `a number from ${min} to ${max}`,
  }
}

/** `?supplyC=18&thresholdC=27`: the model's parameters, defaulting to the fine model's. */
const modelQuery = {
  type: 'object',
  errorCode: 'E_BAD_REQUEST',
  properties: {
    supplyC: celsius(5, 35, FINE_MODEL.supplyC),
    thresholdC: celsius(15, 60, FINE_MODEL.thresholdC),
  },
} as const

type RackParams = { id: number }

/** Racks, positions and the cached computations over them (a write's invalidation is the service's). */
export function rackRoutes(app: FastifyInstance, racks: RackService, thermal: ThermalService): void {
  app.post<{ Body: RackInput }>('/api/racks', { schema: { body: rackBody } }, async (request, reply) => {
    return reply.code(201).send(racks.create(request.body))
  })

  app.get('/api/racks', async () => ({ racks: racks.list() }))

  app.get<{ Params: RackParams }>('/api/racks/:id', { schema: { params: rackParams } }, async (request) =>
    racks.get(request.params.id),
  )

  app.put<{ Params: RackParams; Body: RackInput }>(
    '/api/racks/:id',
    { schema: { params: rackParams, body: rackBody } },
    async (request) => racks.update(request.params.id, request.body),
  )

  app.delete<{ Params: RackParams }>(
    '/api/racks/:id',
    { schema: { params: rackParams } },
    async (request, reply) => {
      await racks.delete(request.params.id)
      return reply.code(204).send()
    },
  )

  app.post<{ Params: RackParams; Body: PositionInput }>(
    '/api/racks/:id/positions',
    { schema: { params: rackParams, body: positionBody } },
    async (request, reply) => {
      const position = await racks.addPosition(request.params.id, request.body)
      return reply.code(201).send(position)
    },
  )

  app.delete<{ Params: RackParams & { positionId: number } }>(
    '/api/racks/:id/positions/:positionId',
    { schema: { params: positionParams } },
    async (request, reply) => {
      await racks.deletePosition(request.params.id, request.params.positionId)
      return reply.code(204).send()
    },
  )

  app.get<{ Params: RackParams; Querystring: ModelParams }>(
    '/api/racks/:id/thermal-analysis',
    { schema: { params: rackParams, querystring: modelQuery } },
    async (request, reply) => {
      const { value, status } = await thermal.analysis(request.params.id, request.query)
      return reply.header('x-cache', status).send(value)
    },
  )

  app.get<{ Params: RackParams; Querystring: ModelParams }>(
    '/api/racks/:id/optimization',
    { schema: { params: rackParams, querystring: modelQuery } },
    async (request, reply) => {
      const { value, status } = await thermal.optimization(request.params.id, request.query)
      return reply.header('x-cache', status).send(value)
    },
  )
}
