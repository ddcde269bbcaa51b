import type { Cache } from '@strata-cache/core'
import { createCache } from '@strata-cache/tiered'
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import {
  appErrorHandler,
  type LiveView,
  podName,
  registerLiveView,
  requestValidatorCompiler,
} from '../src/index.ts'

const TOKEN = 'live-view-admin-token-0123456789abcdef'
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
let app: FastifyInstance | undefined
let cache: Cache | undefined

afterEach(async () => {
  await app?.close()
  await cache?.close()
  app = undefined
  cache = undefined
})

/** A bare Fastify app with a memory-only cache (channels in process) and the live view. */
async function liveApp(adminToken: string | null = TOKEN): Promise<{ app: FastifyInstance; live: LiveView }> {
  cache = createCache({})
  app = Fastify()
  app.setValidatorCompiler(requestValidatorCompiler())
  app.setErrorHandler(appErrorHandler)
  const live = registerLiveView(app, {
    name: 'kit',
    cache,
    adminToken: adminToken ?? undefined,
    channels: ['thing.changed'],
    sampleIntervalMs: 100,
  })
  await app.ready()
  return { app, live }
}

describe('registerLiveView', () => {
  it('serves the page and its script with a strict content security policy', async () => {
    const { app } = await liveApp()
    const page = await app.inject({ url: '/dashboard' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
    expect(page.body).toContain('<svg id="hit-chart"')
    expect(page.body).toContain('<script src="/dashboard/client.js"></script>')
    const script = await app.inject({ url: '/dashboard/client.js' })
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(script.body).toContain("new EventSource('/events')")
    // The script parses (it runs in a browser; here it is only compiled).
    expect(() => new Function(script.body)).not.toThrow()
  })

  it('runs a control command on this pod when sent, and shows it in the state and the feed', async () => {
    const { app, live } = await liveApp()
    let paused = false
    live.control.register('pause-things', ({ by }) => {
      paused = true
      expect(by).toBe(podName())
    })
    live.state('things', () => ({ paused }))
    const sent = await app.inject({
      method: 'POST',
      url: '/admin/control',
      headers: auth,
      payload: { command: 'pause-things' },
    })
    expect(sent.statusCode).toBe(202)
    expect(sent.json()).toMatchObject({ command: 'pause-things', by: podName() })
    await new Promise((resolve) => setImmediate(resolve))
    expect(paused).toBe(true)
    const state = (await app.inject({ url: '/dashboard/state' })).json()
    expect(state).toMatchObject({
      app: 'kit',
      pod: podName(),
      commands: ['pause-things'],
      state: { things: { paused: true } },
    })
    expect(state.feed.at(-1)).toMatchObject({ kind: 'control', command: 'pause-things', ok: true })
    expect(state.history.length).toBeGreaterThan(0)
    expect(state.health).toMatchObject({ status: 'up', tiers: [{ role: 'l1', status: 'up' }] })

    const unknown = await app.inject({
      method: 'POST',
      url: '/admin/control',
      headers: auth,
      payload: { command: 'nope' },
    })
    expect(unknown.statusCode).toBe(400)
    expect(unknown.json()).toMatchObject({ code: 'E_UNKNOWN_COMMAND' })
  })

  it('keeps the admin actions behind the token, and answers 404 without one', async () => {
    const { app } = await liveApp()
    const wrong = await app.inject({
      method: 'POST',
      url: '/admin/clear',
      headers: { authorization: 'Bearer wrong' },
    })
    expect(wrong.json()).toMatchObject({ code: 'E_ADMIN_TOKEN_WRONG' })
    const missing = await app.inject({ method: 'POST', url: '/admin/invalidate', payload: { pattern: '*' } })
    expect(missing.json()).toMatchObject({ code: 'E_ADMIN_TOKEN_MISSING' })
    const ok = await app.inject({
      method: 'POST',
      url: '/admin/invalidate',
      headers: auth,
      payload: { pattern: 'a:*' },
    })
    expect(ok.json()).toEqual({ pattern: 'a:*', deleted_count: 0 })
    await app.close()
    await cache?.close()

    const { app: disabled } = await liveApp(null)
    const off = await disabled.inject({
      method: 'POST',
      url: '/admin/control',
      headers: auth,
      payload: { command: 'x' },
    })
    expect(off.statusCode).toBe(404)
    expect(off.json()).toMatchObject({ code: 'E_ADMIN_DISABLED' })
  })

  it('streams Server-Sent Events: hello, then feed items and application messages; close ends the streams', async () => {
    const { app } = await liveApp()
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    const response = await fetch(`${url}/events`)
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    let text = ''
    const until = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`stream ended before ${needle}:\n${text}`)
        text += value
      }
    }
    await until('event: hello')
    await cache!.invalidate('thing:*')
    await cache!.publish('thing.changed', { id: 7 })
    await until('event: thing.changed')
    expect(text).toContain('event: feed\ndata: {"kind":"invalidation"')
    expect(text).toMatch(
      /event: thing\.changed\ndata: \{"channel":"thing\.changed","message":\{"id":7\},"from":"local","at":"/,
    )
    await until('event: stats')
    // An open stream does not hold the server: close() ends it.
    const closing = app.close()
    await until('\n\n')
    await closing
    await expect(reader.read()).resolves.toMatchObject({ done: true })
  })
})
