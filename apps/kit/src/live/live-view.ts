import type { Cache } from '@strata-cache/core'
import type { FastifyInstance, onRequestHookHandler } from 'fastify'
import { requireAdminToken } from '../admin-auth.ts'
import { clearCache, invalidatePattern } from '../cache-admin.ts'
import { envDuration } from '../env-readers.ts'
import { patternBody } from '../schemas.ts'
import { tierRoles } from '../tier-roles.ts'
import { ControlChannel } from './control-channel.ts'
import { dashboardPage } from './dashboard-page.ts'
import { DASHBOARD_SCRIPT } from './dashboard-script.ts'
import { EventStream } from './event-stream.ts'
import { HitRateHistory } from './hit-rate-history.ts'
import { LiveFeed } from './live-feed.ts'
import { podName } from './pod-name.ts'

/** Options of {@link registerLiveView}. */
export interface LiveViewOptions {
  /** The app's name, shown on the page. */
  name: string
  cache: Cache
  /** Bearer token of the admin actions; undefined: they answer 404, like the app's other admin endpoints. */
  adminToken: string | undefined
  /** Route options of the admin routes (the app's admin rate limit, then the token). @default { onRequest: requireAdminToken(adminToken) } */
  admin?: { onRequest: onRequestHookHandler | onRequestHookHandler[]; config?: object }
  /** Application channels whose messages go to the browsers (`GET /events`, one SSE event per message, named after its channel). @default [] */
  channels?: readonly string[]
  /** How often the hit rate is sampled and health checked. @default DASHBOARD_SAMPLE_INTERVAL, else 5 s */
  sampleIntervalMs?: number
  /** How far back the chart goes. @default DASHBOARD_WINDOW, else 10 minutes */
  windowMs?: number
}

/** What an app adds to its live view. */
export interface LiveView {
  /** This pod's name on the dashboards (see podName). */
  readonly pod: string
  /** Commands every pod runs (`POST /admin/control`); register the app's own. */
  readonly control: ControlChannel
  /** Shows a part of the app's state on the page (`state.<name>`), re-read after each control command. */
  state(name: string, read: () => unknown): void
  /** Adds a line to the feed of this pod's page (and streams it). */
  note(kind: string, details: Record<string, unknown>): void
}

const controlBody = {
  type: 'object',
  required: ['command'],
  additionalProperties: false,
  properties: {
    command: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      description: 'a command such as "pause-warming"',
    },
  },
} as const

/**
 * The live view of a service: `GET /dashboard` (a page with no build step: hit rate over the last
 * minutes, L1/L2/bus health and breaker, the latest invalidations and events from any pod, admin
 * actions behind the token), `GET /dashboard/state` (its JSON), `GET /events` (Server-Sent Events:
 * `feed`, `stats`, `health`, `state`, and one event per application message, named after its
 * channel), and the admin routes `POST /admin/invalidate`, `POST /admin/clear` and
 * `POST /admin/control` (a command run by every pod).
 */
export function registerLiveView(app: FastifyInstance, options: LiveViewOptions): LiveView {
  const { cache, name } = options
  const pod = podName()
  const intervalMs = options.sampleIntervalMs ?? envDuration(process.env, 'DASHBOARD_SAMPLE_INTERVAL', '5s')
  const channels = [...(options.channels ?? [])]
  const admin = options.admin ?? { onRequest: requireAdminToken(options.adminToken) }
  const stream = new EventStream()
  const feed = new LiveFeed(cache, stream)
  const windowMs = options.windowMs ?? envDuration(process.env, 'DASHBOARD_WINDOW', '10m')
  const history = new HitRateHistory(cache, Math.max(100, intervalMs), windowMs)
  const states = new Map<string, () => unknown>()
  const readState = () => Object.fromEntries([...states].map(([key, read]) => [key, read()]))
  const control = new ControlChannel(cache, pod, (outcome) => {
    feed.add({ ...outcome, kind: 'control' })
    stream.send('state', readState())
  })
  const roleOf = tierRoles(cache)
  const health = async () => {
    const report = await cache.health()
    const tiers = report.checks.map((check) => ({
      role: roleOf(check),
      tier: check.tier,
      status: check.status,
      latencyMs: check.latencyMs,
      message: check.message,
      breaker: (check.details as { breaker?: string } | undefined)?.breaker,
    }))
    return { status: report.status, tiers }
  }
  let lastHealth: Awaited<ReturnType<typeof health>> | undefined
  const tick = async () => {
    stream.send('stats', history.sample())
    try {
      lastHealth = await health()
      stream.send('health', lastHealth)
    } catch (error) {
      app.log.warn({ err: error }, 'live view: health check failed')
    }
  }
  const timer = setInterval(() => void tick(), history.interval)
  timer.unref()
  history.sample()

  const offs: (() => void)[] = []
  app.addHook('onReady', async () => {
    offs.push(await control.start())
    for (const channel of channels) {
      offs.push(
        await cache.subscribe(channel, (message, info) => {
          const item = { channel, message, from: info.from }
          stream.send(channel, { ...item, at: new Date().toISOString() })
          feed.add({ ...item, kind: 'event' })
        }),
      )
    }
  })
  // Open streams would keep the server from closing: end them first.
  app.addHook('preClose', async () => {
    clearInterval(timer)
    stream.close()
    for (const off of offs.splice(0)) off()
    feed.close()
    history.close()
  })

  const page = dashboardPage(name)
  const securityHeaders = {
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  }
  app.get('/dashboard', async (_request, reply) =>
    reply.headers(securityHeaders).type('text/html; charset=utf-8').send(page),
  )
  app.get('/dashboard/client.js', async (_request, reply) =>
    reply.headers(securityHeaders).type('text/javascript; charset=utf-8').send(DASHBOARD_SCRIPT),
  )
  app.get('/dashboard/state', async () => ({
    app: name,
    pod,
    channels,
    commands: control.commands(),
    sampleIntervalMs: history.interval,
    windowMs,
    history: history.list(),
    health: lastHealth ?? (await health()),
    feed: feed.list(),
    state: readState(),
    streams: stream.size,
  }))
  app.get(
    '/events',
    stream.handler(() => ({ app: name, pod, channels })),
  )

  app.post<{ Body: { pattern: string } }>(
    '/admin/invalidate',
    { ...admin, schema: { body: patternBody } },
    async (request) => invalidatePattern(cache, request.body.pattern),
  )
  app.post('/admin/clear', admin, async () => clearCache(cache))
  app.post<{ Body: { command: string } }>(
    '/admin/control',
    { ...admin, schema: { body: controlBody } },
    async (request, reply) => reply.code(202).send(await control.send(request.body.command)),
  )

  return {
    pod,
    control,
    state(key, read) {
      states.set(key, read)
    },
    note(kind, details) {
      feed.add({ ...details, kind })
    },
  }
}
