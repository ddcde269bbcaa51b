import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildAppServer, type HttpSettings, serviceUnavailable } from '../src/index.ts'

const TOKEN = 'kit-admin-token-0123456789abcdef0123'
let app: FastifyInstance | undefined

afterEach(async () => {
  await app?.close()
  app = undefined
})

/** A memory-only service with a data route, a liveness route, an admin route and a query route. */
async function service(http: Partial<HttpSettings> = {}): Promise<FastifyInstance> {
  const instance = buildAppServer({
    name: 'kit-test',
    logLevel: 'silent',
    redisUrl: undefined,
    adminToken: TOKEN,
    http: {
      trustProxy: 0,
      rateLimit: { max: 1000, windowMs: 60_000 },
      adminRateLimit: { max: 1000, windowMs: 60_000 },
      ...http,
    },
    cache: { defaultTtl: '1m' },
    open: () => ({ close() {} }),
    routes(scope, { admin }) {
      scope.get('/health', async () => ({ status: 'ok' }))
      scope.get('/data', async () => ({ ok: true }))
      scope.get('/busy', async () => {
        throw serviceUnavailable('every slot is taken', 3)
      })
      scope.get<{ Querystring: { q: string } }>(
        '/search',
        {
          schema: {
            querystring: {
              type: 'object',
              required: ['q'],
              additionalProperties: false,
              errorCode: 'E_BAD_REQUEST',
              properties: {
                q: { type: 'string', maxLength: 10 },
                tags: { type: 'array', items: { type: 'string' } },
              },
            },
          },
        },
        async (request) => request.query,
      )
      scope.post('/admin', admin, async () => ({ admin: true }))
    },
  })
  await instance.ready()
  return instance
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('buildAppServer: rate limits', () => {
  it('answers 429 E_RATE_LIMITED with Retry-After past the data-plane limit, but never on /health', async () => {
    app = await service({ rateLimit: { max: 3, windowMs: 60_000 } })
    for (let i = 0; i < 3; i++) expect((await app.inject('/data')).statusCode).toBe(200)
    const limited = await app.inject('/data')
    expect(limited.statusCode).toBe(429)
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect(limited.headers['x-ratelimit-limit']).toBe('3')
    expect(limited.json()).toMatchObject({ error: 'Too Many Requests', code: 'E_RATE_LIMITED' })
    expect(limited.json().message).toMatch(
      /^too many requests: at most 3 per minute from one address; retry in /,
    )
    for (let i = 0; i < 10; i++) expect((await app.inject('/health')).statusCode).toBe(200)
    // Another address has its own budget.
    expect((await app.inject({ url: '/data', remoteAddress: '10.0.0.9' })).statusCode).toBe(200)
  })

  it('counts admin requests on their own budget, wrong tokens included, before the token is checked', async () => {
    app = await service({ adminRateLimit: { max: 2, windowMs: 60_000 } })
    const wrong = await app.inject({ method: 'POST', url: '/admin', headers: bearer(`${TOKEN}x`) })
    expect(wrong.statusCode).toBe(401)
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"')
    expect((await app.inject({ method: 'POST', url: '/admin', headers: bearer(TOKEN) })).statusCode).toBe(200)
    const limited = await app.inject({ method: 'POST', url: '/admin', headers: bearer(TOKEN) })
    expect(limited.statusCode).toBe(429)
    expect(limited.json().code).toBe('E_RATE_LIMITED')
    expect(limited.headers['retry-after']).toBeDefined()
    // The data plane is not affected.
    expect((await app.inject('/data')).statusCode).toBe(200)
  })

  it('takes the client address from X-Forwarded-For only with TRUST_PROXY', async () => {
    app = await service({ trustProxy: 1, rateLimit: { max: 1, windowMs: 60_000 } })
    const from = (client: string) => app!.inject({ url: '/data', headers: { 'x-forwarded-for': client } })
    expect((await from('203.0.113.1')).statusCode).toBe(200)
    expect((await from('203.0.113.2')).statusCode).toBe(200)
    expect((await from('203.0.113.1')).statusCode).toBe(429)
    await app.close()
    app = await service({ trustProxy: 0, rateLimit: { max: 1, windowMs: 60_000 } })
    expect((await from('203.0.113.1')).statusCode).toBe(200)
    expect((await from('203.0.113.2')).statusCode).toBe(429) // one peer, whatever it claims
  })

  it('sends the headers of an HttpError: 503 with Retry-After', async () => {
    app = await service()
    const busy = await app.inject('/busy')
    expect(busy.statusCode).toBe(503)
    expect(busy.headers['retry-after']).toBe('3')
    expect(busy.json()).toEqual({
      error: 'Service Unavailable',
      code: 'E_BUSY',
      message: 'every slot is taken',
    })
  })
})

describe('buildAppServer: query strings', () => {
  it('refuses any query parameter on a route that declares none', async () => {
    app = await service()
    const reply = await app.inject('/data?debug=1')
    expect(reply.statusCode).toBe(400)
    expect(reply.json()).toEqual({
      error: 'Bad Request',
      code: 'E_VALIDATION',
      message: 'query parameter debug is not accepted (this endpoint takes no query parameters)',
    })
    expect((await app.inject('/data')).statusCode).toBe(200)
  })

  it('answers a repeated parameter with a 400 that names it, unless the schema asks for a list', async () => {
    app = await service()
    const repeated = await app.inject('/search?q=a&q=b')
    expect(repeated.statusCode).toBe(400)
    expect(repeated.json()).toEqual({
      error: 'Bad Request',
      code: 'E_BAD_REQUEST',
      message: 'query parameter q is given 2 times: give it once',
    })
    expect((await app.inject('/search?q=a&tags=x&tags=y')).json()).toEqual({ q: 'a', tags: ['x', 'y'] })
    const unknown = await app.inject('/search?q=a&colour=red')
    expect(unknown.json().message).toBe('query parameter colour is not accepted (accepted: q, tags)')
    // Repeated on a route with no parameters at all: still a 400, never a 500.
    expect((await app.inject('/data?x=1&x=2')).statusCode).toBe(400)
  })
})
