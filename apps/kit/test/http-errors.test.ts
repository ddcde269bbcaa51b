import { CacheError, CacheErrorCode } from '@strata-cache/core'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { appErrorHandler, conflict, requireAdminToken } from '../src/index.ts'

let app: FastifyInstance | undefined

afterEach(async () => {
  await app?.close()
  app = undefined
})

describe('appErrorHandler', () => {
  it('answers every error as JSON with a stable code, and hides the cause of a 500', async () => {
    app = Fastify({ logger: false })
    app.setErrorHandler(appErrorHandler)
    app.get('/conflict', async () => {
      throw conflict('position overlaps')
    })
    app.get('/pattern', async () => {
      throw new CacheError(CacheErrorCode.INVALID_PATTERN, 'bad pattern')
    })
    app.get('/boom', async () => {
      throw new Error('database password is hunter2')
    })
    app.post('/body', { schema: { body: { type: 'object', required: ['name'] } } }, async () => ({}))

    const answers = await Promise.all(
      ['/conflict', '/pattern', '/boom'].map(async (url) => {
        const reply = await app?.inject(url)
        return { status: reply?.statusCode, body: reply?.json() }
      }),
    )
    expect(answers).toEqual([
      { status: 409, body: { error: 'Conflict', code: 'E_CONFLICT', message: 'position overlaps' } },
      { status: 400, body: { error: 'Bad Request', code: 'E_INVALID_PATTERN', message: 'bad pattern' } },
      {
        status: 500,
        body: {
          error: 'Internal Server Error',
          code: 'E_INTERNAL',
          message: 'the request failed; see the service log',
        },
      },
    ])
    const body = await app.inject({ method: 'POST', url: '/body', payload: {} })
    expect(body.statusCode).toBe(400)
    expect(body.json().code).toBe('E_VALIDATION')
  })
})

describe('requireAdminToken', () => {
  async function adminApp(token: string | undefined): Promise<FastifyInstance> {
    const instance = Fastify({ logger: false })
    instance.get('/admin', { onRequest: requireAdminToken(token) }, async () => ({ ok: true }))
    await instance.ready()
    return instance
  }

  it('answers 404 when no token is configured, whatever is sent', async () => {
    app = await adminApp(undefined)
    const reply = await app.inject({ url: '/admin', headers: { authorization: 'Bearer anything' } })
    expect(reply.statusCode).toBe(404)
    expect(reply.json().code).toBe('E_ADMIN_DISABLED')
  })

  it('answers 401 without a bearer token, 401 invalid_token with a wrong one, and passes the right one', async () => {
    app = await adminApp('s3cret')
    const missing = await app.inject('/admin')
    expect(missing.statusCode).toBe(401)
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="cache-admin"')
    expect(missing.json().code).toBe('E_ADMIN_TOKEN_MISSING')
    const basic = await app.inject({ url: '/admin', headers: { authorization: 'Basic czNjcmV0' } })
    expect(basic.statusCode).toBe(401)
    const wrong = await app.inject({ url: '/admin', headers: { authorization: 'Bearer s3cret-not' } })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.headers['www-authenticate']).toBe('Bearer realm="cache-admin", error="invalid_token"')
    expect(wrong.json()).toEqual({
      error: 'Unauthorized',
      code: 'E_ADMIN_TOKEN_WRONG',
      message: 'the bearer token is not the admin token',
    })
    const right = await app.inject({ url: '/admin', headers: { authorization: 'bearer s3cret' } })
    expect(right.statusCode).toBe(200)
    expect(right.json()).toEqual({ ok: true })
  })
})
