import {
  cacheStatsBody,
  clearCache,
  invalidatePattern,
  metricsHandler,
  parseId,
  requireAdminToken,
  tierSummary,
} from '@strata-cache/app-kit'
import type { Cache } from '@strata-cache/core'
import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { DeviceRepository } from './device-repository.ts'
import type { DeviceService } from './device-service.ts'

const deviceBody = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
} as const

const keyBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
} as const

const invalidateBody = {
  type: 'object',
  required: ['pattern'],
  additionalProperties: false,
  properties: { pattern: { type: 'string' } },
} as const

/** Every endpoint of the service. */
export function routes(
  app: FastifyInstance,
  deps: {
    devices: DeviceRepository
    service: DeviceService
    cache: Cache
    registry: Registry
    adminToken: string | undefined
  },
): void {
  const { devices, service, cache, registry } = deps
  const admin = requireAdminToken(deps.adminToken)

  app.get('/health', async () => ({ status: 'ok' }))

  app.post<{ Body: { name: string } }>(
    '/api/devices',
    { schema: { body: deviceBody } },
    async (request, reply) => {
      return reply.code(201).send(devices.create(request.body.name))
    },
  )

  app.get<{ Params: { deviceId: string } }>('/api/devices/:deviceId', async (request) =>
    devices.get(parseId(request.params.deviceId, 'deviceId')),
  )

  app.get<{ Params: { deviceId: string } }>('/api/devices/:deviceId/info', async (request, reply) => {
    const { value, status } = await service.info(parseId(request.params.deviceId, 'deviceId'))
    return reply.header('x-cache', status).send(value)
  })

  app.post<{ Params: { deviceId: string }; Body: { name?: string } | null }>(
    '/api/devices/:deviceId/api-keys',
    { schema: { body: keyBody } },
    async (request, reply) => {
      const deviceId = parseId(request.params.deviceId, 'deviceId')
      const created = devices.createKey(deviceId, request.body?.name)
      await service.invalidateDevice(deviceId)
      return reply.code(201).send(created)
    },
  )

  app.delete<{ Params: { keyId: string } }>('/api/api-keys/:keyId', async (request, reply) => {
    const { deviceId } = devices.revokeKey(parseId(request.params.keyId, 'keyId'))
    await service.invalidateDevice(deviceId)
    return reply.code(204).send()
  })

  app.get('/cache/stats', { onRequest: admin }, async () => {
    const [body, stats] = await Promise.all([cacheStatsBody(cache), cache.stats()])
    return { ...body, tiers: tierSummary(cache, stats.tiers) }
  })

  app.post('/cache/clear', { onRequest: admin }, async () => clearCache(cache))

  app.post<{ Body: { pattern: string } }>(
    '/cache/invalidate',
    { onRequest: admin, schema: { body: invalidateBody } },
    async (request) => {
      const { pattern } = request.body
      return invalidatePattern(cache, pattern)
    },
  )

  app.get('/metrics', metricsHandler(registry))
}
