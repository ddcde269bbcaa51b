import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { appErrorHandler, idParam, patternBody, requestValidatorCompiler } from '../src/index.ts'

let app: FastifyInstance | undefined

afterEach(async () => {
  await app?.close()
  app = undefined
})

/** A bare Fastify with the kit's validator compiler and error handler; routes echo what they got. */
async function appWith(register: (instance: FastifyInstance) => void): Promise<FastifyInstance> {
  const instance = Fastify({ logger: false })
  instance.setValidatorCompiler(requestValidatorCompiler())
  instance.setErrorHandler(appErrorHandler)
  register(instance)
  await instance.ready()
  return instance
}

const rackBody = {
  type: 'object',
  required: ['name', 'heightU'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200, description: '1 to 200 characters' },
    heightU: { type: 'integer', minimum: 1, maximum: 60, description: 'an integer from 1 to 60' },
  },
} as const

describe('idParam', () => {
  it('accepts positive 32-bit integers only, read as numbers', async () => {
    app = await appWith((instance) => {
      instance.get(
        '/things/:id',
        { schema: { params: { type: 'object', properties: { id: idParam(':id') } } } },
        async (request) => request.params,
      )
    })
    expect((await app.inject('/things/42')).json()).toEqual({ id: 42 })
    expect((await app.inject('/things/2147483647')).json()).toEqual({ id: 2_147_483_647 })
    for (const bad of ['0', '-1', '01', '1.5', 'abc', '2147483648', '']) {
      const reply = await app.inject(`/things/${bad}`)
      expect(reply.statusCode).toBe(400)
      expect(reply.json()).toEqual({
        error: 'Bad Request',
        code: 'E_INVALID_ID',
        message: `:id must be a positive integer, got ${JSON.stringify(bad)}`,
      })
    }
  })
})

describe('requestValidatorCompiler', () => {
  it('checks a body as sent: "42" is not a number, and names the field and what it must be', async () => {
    app = await appWith((instance) => {
      instance.post('/racks', { schema: { body: rackBody } }, async (request) => request.body)
    })
    const post = async (payload: object) => {
      const reply = await app!.inject({ method: 'POST', url: '/racks', payload })
      return { status: reply.statusCode, body: reply.json() }
    }
    expect(await post({ name: 'a', heightU: 42 })).toEqual({ status: 200, body: { name: 'a', heightU: 42 } })
    expect(await post({ name: 'a', heightU: '42' })).toEqual({
      status: 400,
      body: {
        error: 'Bad Request',
        code: 'E_VALIDATION',
        message: 'heightU must be an integer from 1 to 60, got "42"',
      },
    })
    expect((await post({ heightU: 4 })).body.message).toBe('name must be 1 to 200 characters, got nothing')
    expect((await post({ name: 'a', heightU: 4, colour: 'red' })).body.message).toBe(
      'colour is not a field (fields: name, heightU)',
    )
    const notAnObject = await app.inject({
      method: 'POST',
      url: '/racks',
      headers: { 'content-type': 'application/json' },
      payload: '7',
    })
    expect(notAnObject.json().message).toBe('the body must be object, got 7')
  })

  it('reads path and query values as their type, fills defaults (an empty value is absent), and names a query parameter as such', async () => {
    app = await appWith((instance) => {
      instance.get(
        '/search',
        {
          schema: {
            querystring: {
              type: 'object',
              properties: {
                limit: {
                  type: 'integer',
                  minimum: 1,
                  maximum: 100,
                  default: 20,
                  description: 'an integer from 1 to 100',
                },
              },
            },
          },
        },
        async (request) => request.query,
      )
    })
    expect((await app.inject('/search?limit=5')).json()).toEqual({ limit: 5 })
    expect((await app.inject('/search')).json()).toEqual({ limit: 20 })
    expect((await app.inject('/search?limit=')).json()).toEqual({ limit: 20 })
    expect((await app.inject('/search?limit=500')).json().message).toBe(
      'query parameter limit must be an integer from 1 to 100, got "500"',
    )
  })

  it('names a value by the titles above it and its place in arrays; errorMessage and errorCode apply below them', async () => {
    const event = {
      type: 'object',
      required: ['user'],
      additionalProperties: false,
      errorCode: 'E_INVALID_EVENT',
      properties: {
        user: {
          type: 'string',
          pattern: '^[a-z]+$',
          description: 'lower-case letters',
          errorCode: 'E_INVALID_NAME',
        },
        time: { type: 'string', pattern: '^\\d{4}$', description: 'a year' },
        kind: { enum: ['a', 'b'], errorMessage: 'unknown kind {value}' },
      },
    }
    const body = {
      if: { type: 'array' },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else
      then: { title: 'events', type: 'array', items: event },
      else: {
        if: { type: 'object', required: ['events'] },
        // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else
        then: { type: 'object', properties: { events: { type: 'array', items: event } } },
        else: { ...event, title: 'event' },
      },
    }
    app = await appWith((instance) => {
      instance.post('/events', { schema: { body } }, async () => ({ ok: true }))
    })
    const post = async (payload: unknown) => {
      const reply = await app!.inject({ method: 'POST', url: '/events', payload: payload as object })
      return reply.json() as { code: string; message: string }
    }
    expect(await post({ user: 'al', time: 'now' })).toMatchObject({
      code: 'E_INVALID_EVENT',
      message: 'event.time must be a year, got "now"',
    })
    expect(await post({ events: [{ user: 'al' }, { user: 'al', time: '12' }] })).toMatchObject({
      message: 'events[1].time must be a year, got "12"',
    })
    expect(await post([{ user: 'Al' }])).toEqual({
      error: 'Bad Request',
      code: 'E_INVALID_NAME',
      message: 'events[0].user must be lower-case letters, got "Al"',
    })
    expect(await post({ user: 'al', kind: 'c' })).toMatchObject({
      code: 'E_INVALID_EVENT',
      message: 'unknown kind "c"',
    })
    expect(await post({ time: '2026' })).toMatchObject({
      code: 'E_INVALID_NAME',
      message: 'event.user must be lower-case letters, got nothing',
    })
    expect(await post({ user: 'al', at: 1 })).toMatchObject({
      message: 'event.at is not a field of event (fields: user, time, kind)',
    })
  })

  it('answers a bad invalidate body with E_INVALID_PATTERN', async () => {
    app = await appWith((instance) => {
      instance.post('/invalidate', { schema: { body: patternBody } }, async (request) => request.body)
    })
    const missing = await app.inject({ method: 'POST', url: '/invalidate', payload: {} })
    expect(missing.statusCode).toBe(400)
    expect(missing.json()).toMatchObject({ code: 'E_INVALID_PATTERN' })
    expect(missing.json().message).toContain('pattern must be a glob')
  })
})
