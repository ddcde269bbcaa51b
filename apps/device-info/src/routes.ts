import {
  type AdminRouteOptions,
  type CacheFigures,
  cacheStatsBody,
  clearCache,
  idParam,
  invalidatePattern,
  limitParam,
  metricsHandler,
  pageAfter,
  patternBody,
  tierSummary,
} from '@strata-cache/app-kit'
import type { Cache } from '@strata-cache/core'
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { DeviceService } from './device-service.ts'

const name = {
  type: 'string',
  minLength: 1,
  maxLength: 200,
  description: 'a string of 1 to 200 characters',
} as const

const deviceBody = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name },
} as const

/** `{ "name"?: string }`, or no body at all. */
const keyBody = {
  type: 'object',
  nullable: true,
  description: 'an object such as {"name": "ci"}, or nothing',
  additionalProperties: false,
  properties: { name },
} as const

const deviceParams = {
  type: 'object',
  required: ['deviceId'],
  properties: { deviceId: idParam('deviceId') },
} as const
const keyParams = { type: 'object', required: ['keyId'], properties: { keyId: idParam('keyId') } } as const

/** `?limit=50&after=<key id>`: a page of the device's keys, after the key `after` names. */
const infoQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: limitParam(50, 100),
    after: { ...idParam('query parameter after'), errorCode: 'E_VALIDATION' },
  },
} as const

type DeviceParams = { deviceId: number }

/** Every endpoint of the service: a route reads the request, calls the service and shapes the reply. */
export function routes(
  app: FastifyInstance,
  deps: {
    service: DeviceService
    cache: Cache
    registry: Registry
    figures: CacheFigures
    admin: AdminRouteOptions
  },
): void {
  const { service, cache, registry, figures, admin } = deps

  app.get('/health', async () => ({ status: 'ok' }))

  app.post<{ Body: { name: string } }>(
    '/api/devices',
    { schema: { body: deviceBody } },
    async (request, reply) => reply.code(201).send(service.create(request.body.name)),
  )

  app.get<{ Params: DeviceParams }>(
    '/api/devices/:deviceId',
    { schema: { params: deviceParams } },
    async (request) => service.device(request.params.deviceId),
  )

  // One cached entry per device; a page is cut from it, so paging costs no extra key.
  app.get<{ Params: DeviceParams; Querystring: { limit: number; after?: number } }>(
    '/api/devices/:deviceId/info',
    { schema: { params: deviceParams, querystring: infoQuery } },
    async (request, reply) => {
      const { value, status } = await service.info(request.params.deviceId)
      const { limit, after } = request.query
      const page = pageAfter(value.apiKeys, (key) => key.id, after, limit)
      return reply.header('x-cache', status).send({ ...value, apiKeys: page.items, next: page.next })
    },
  )

  app.post<{ Params: DeviceParams; Body: { name?: string } | null }>(
    '/api/devices/:deviceId/api-keys',
    { schema: { params: deviceParams, body: keyBody } },
    async (request, reply) => {
      const created = await service.createKey(request.params.deviceId, request.body?.name)
      return reply.code(201).send(created)
    },
  )

  app.delete<{ Params: { keyId: number } }>(
    '/api/api-keys/:keyId',
    { schema: { params: keyParams } },
    async (request, reply) => {
      await service.revokeKey(request.params.keyId)
      return reply.code(204).send()
    },
  )

  app.get('/cache/stats', admin, async () => {
    const stats = await figures.stats()
    return { ...(await cacheStatsBody(cache, stats)), tiers: tierSummary(cache, stats.tiers) }
  })

  app.post('/cache/clear', admin, async () => clearCache(cache))

  app.post<{ Body: { pattern: string } }>(
    '/cache/invalidate',
    { ...admin, schema: { body: patternBody } },
    async (request) => invalidatePattern(cache, request.body.pattern),
  )

  app.get('/metrics', metricsHandler(registry))
}
