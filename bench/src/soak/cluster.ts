import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { type ChildPod, freePort, sleep, startChildPod } from '@strata-cache/test-suite/testing'
import { Redis } from 'ioredis'

/** The app the soak runs: its write API changes the shared SQLite file and invalidates by tags. */
const APP_DIR = fileURLToPath(new URL('../../../apps/analytics/', import.meta.url))

/** The fault proxy in front of pod A, run in its own process (see proxy-process.ts). */
export interface SoakProxy {
  readonly port: number
  readonly url: string
  readonly pid: number
  /** Resets pod A's connections and refuses new ones for `ms`. */
  reset(ms: number): Promise<void>
  /** Holds pod A's bytes both ways for `ms`, then delivers them in order. */
  hold(ms: number): Promise<void>
  /** Ends any fault at once. */
  heal(): Promise<void>
  /** Closes the proxy and stops its process. */
  close(): Promise<void>
  /** The proxy process's own stalls of 100 ms or more (`at` in epoch ms): pod A's bytes waited. */
  readonly stalls: readonly { at: number; ms: number }[]
}

/** Forks proxy-process.ts and waits for its port. */
async function startProxy(host: string, port: number): Promise<SoakProxy> {
  const child = startChildPod({
    name: 'fault proxy',
    script: fileURLToPath(new URL('./proxy-process.ts', import.meta.url)),
    args: [host, String(port)],
    channel: 'ipc',
    replyTimeoutMs: 5_000,
  })
  const stalls: { at: number; ms: number }[] = []
  child.onEvent((event) => {
    if (event.event === 'stall') stalls.push({ at: Number(event.at), ms: Number(event.ms) })
  })
  const started = await new Promise<{ port: number; url: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fault proxy did not start: ${child.output()}`)), 30_000)
    child.onEvent((event) => {
      if (event.event !== 'started') return
      clearTimeout(timer)
      resolve(event as unknown as { port: number; url: string })
    })
    void child.exited.then(() => reject(new Error(`fault proxy exited at start: ${child.output()}`)))
  })
  return {
    port: started.port,
    url: started.url,
    pid: child.pid,
    reset: async (ms) => void (await child.call('reset', { ms })),
    hold: async (ms) => void (await child.call('hold', { ms })),
    heal: async () => void (await child.call('heal').catch(() => {})),
    close: () => child.stop({ ask: () => child.call('close'), killAfterMs: 3_000 }),
    stalls,
  }
}

/** One analytics pod, started from the sources. */
export interface SoakPod {
  /** `A` reaches Redis through the fault proxy; `B` and `C` directly. */
  readonly name: string
  readonly url: string
  readonly viaProxy: boolean
  readonly child: ChildPod
}

/** One pod's view of itself, read from its metrics endpoint. */
export interface PodState {
  pod: string
  /** False when the endpoint did not answer with 200 in time: nothing is known. */
  answered: boolean
  /** The gauges that are not back, e.g. `cache_circuit_breaker_state 2` (labels left out). */
  wrong: string[]
  /**
   * `cache_l2_repairs_total{outcome="queued"}`: removals L2 did not confirm, kept for replay. (A
   * removal is pending while its L2 round trip is in flight, so `cache_l2_repairs_pending` is above 0
   * during every write; only a queued one is a fault.)
   */
  queued: number
}

/** Redis, the fault proxy in front of pod A, three pods, and the database file they share. */
export interface SoakCluster {
  readonly dir: string
  readonly dbPath: string
  readonly redis: RedisServer
  readonly proxy: SoakProxy
  readonly pods: readonly SoakPod[]
  /** `CLIENT LIST TYPE pubsub` count; undefined while Redis does not answer. */
  pubsubClients(): Promise<number | undefined>
  /**
   * Each pod's own view from its Prometheus endpoint: undefined when every tier is available, every
   * breaker closed, the bus connected and no L2 repair pending; else what is not (e.g. `A: breaker 2`).
   */
  podsUnsettled(): Promise<string | undefined>
  /**
   * Each pod's gauges that are not back (same rule as `podsUnsettled`), per pod; `answered` false
   * when the metrics endpoint did not answer (within `timeoutMs`, 1 s by default) or not with 200.
   */
  podStates(timeoutMs?: number): Promise<PodState[]>
  /** Runs `use` with one direct connection (never through the proxy), 2 s per command, then closes it. */
  withAdmin<T>(use: (command: (args: string[]) => Promise<unknown>) => Promise<T>): Promise<T>
  /** `CLIENT KILL TYPE pubsub`: how many subscriber connections went. */
  killPubsubClients(): Promise<number>
  /** Stops the pods, the proxy and Redis, by pid; keeps the directory when `keepDir`. Idempotent. */
  stop(keepDir: boolean): Promise<void>
}

/**
 * Runs `use` with one fresh direct connection (never through the proxy), each command bounded by
 * `timeoutMs`, and closes it.
 */
async function withAdmin<T>(
  redis: RedisServer,
  timeoutMs: number,
  use: (command: (args: string[]) => Promise<unknown>) => Promise<T>,
): Promise<T> {
  const client = new Redis({
    host: redis.host,
    port: redis.port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  client.on('error', () => {})
  try {
    await client.connect()
    return await use((args) => client.call(args[0]!, ...args.slice(1)))
  } finally {
    client.disconnect()
  }
}

/** One command on its own connection, bounded in time. */
function adminCommand(redis: RedisServer, args: string[]): Promise<unknown> {
  return withAdmin(redis, 500, (command) => command(args))
}

/** The cache gauges of one pod that say it is not back yet, or [] when it is. */
async function podState(pod: SoakPod, timeoutMs = 1_000): Promise<PodState> {
  let text: string
  try {
    const response = await fetch(`${pod.url}/api/v1/metrics`, { signal: AbortSignal.timeout(timeoutMs) })
    text = await response.text()
    if (!response.ok)
      return { pod: pod.name, answered: false, wrong: [`metrics ${response.status}`], queued: 0 }
  } catch {
    return { pod: pod.name, answered: false, wrong: ['no metrics'], queued: 0 }
  }
  const wrong: string[] = []
  const expect = (name: string, ok: (value: number) => boolean) => {
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
      const value = Number(line.slice(line.lastIndexOf(' ') + 1))
      if (!ok(value)) wrong.push(`${line.slice(0, line.indexOf('{')) || name} ${value}`)
    }
  }
  expect('cache_tier_available', (v) => v === 1)
  expect('cache_circuit_breaker_state', (v) => v === 0)
  expect('cache_bus_connected', (v) => v === 1)
  expect('cache_l2_repairs_pending', (v) => v === 0)
  let queued = 0
  for (const line of text.split('\n'))
    if (line.startsWith('cache_l2_repairs_total{') && line.includes('outcome="queued"'))
      queued += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0
  return { pod: pod.name, answered: true, wrong, queued }
}

async function waitHealthy(pod: SoakPod, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!pod.child.running()) throw new Error(`pod ${pod.name} exited at start:\n${pod.child.output()}`)
    try {
      if ((await fetch(`${pod.url}/health`, { signal: AbortSignal.timeout(1_000) })).ok) return
    } catch {
      // Not listening yet.
    }
    await sleep(200)
  }
  throw new Error(`pod ${pod.name} did not answer /health within ${timeoutMs} ms:\n${pod.child.output()}`)
}

/**
 * Starts Redis (our own process: it is paused and killed), the proxy, and pods A, B, C one after
 * the other on loopback. On failure, stops what it started and rethrows.
 */
export async function startCluster(degradedL1TtlMs: number): Promise<SoakCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-soak-'))
  const dbPath = join(dir, 'analytics.db')
  const pods: SoakPod[] = []
  let redis: RedisServer | undefined
  let proxy: SoakProxy | undefined
  let stopped = false

  const stop = async (keepDir: boolean) => {
    if (stopped) return
    stopped = true
    await proxy?.heal()
    await Promise.all(pods.map((pod) => pod.child.stop({ killAfterMs: 5_000 })))
    await proxy?.close()
    await redis?.stop()
    if (!keepDir) rmSync(dir, { recursive: true, force: true })
  }

  try {
    redis = await startRedisServer({ ownServer: true })
    proxy = await startProxy(redis.host, redis.port)
    for (const name of ['A', 'B', 'C']) {
      const viaProxy = name === 'A'
      const port = await freePort()
      const child = startChildPod({
        name: `pod ${name}`,
        script: 'src/main.ts',
        cwd: APP_DIR,
        channel: 'none',
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? tmpdir(),
          LOG_LEVEL: 'warn',
          HOST: '127.0.0.1',
          PORT: String(port),
          REDIS_URL: viaProxy ? proxy.url : redis.url,
          DATABASE_PATH: dbPath,
          CACHE_DEGRADED_L1_TTL: `${degradedL1TtlMs}ms`,
          // The soak measures the cache, not the apps' per-client rate limit (one client, many requests).
          RATE_LIMIT_MAX: '0',
        },
      })
      const pod: SoakPod = { name, url: `http://127.0.0.1:${port}`, viaProxy, child }
      pods.push(pod)
      await waitHealthy(pod, 60_000)
    }
  } catch (error) {
    await stop(false)
    throw error
  }
  const server = redis
  return {
    dir,
    dbPath,
    redis: server,
    proxy,
    pods,
    async pubsubClients() {
      try {
        const list = String(await adminCommand(server, ['CLIENT', 'LIST', 'TYPE', 'pubsub']))
        return list.split('\n').filter((line) => line.startsWith('id=')).length
      } catch {
        return undefined
      }
    },
    withAdmin: (use) => withAdmin(server, 2_000, use),
    async podsUnsettled() {
      const views = await Promise.all(pods.map((pod) => podState(pod)))
      const wrong = views.filter((view) => view.wrong.length > 0)
      return wrong.length === 0
        ? undefined
        : wrong.map((view) => `${view.pod}: ${view.wrong.join(', ')}`).join('; ')
    },
    podStates: (timeoutMs) => Promise.all(pods.map((pod) => podState(pod, timeoutMs))),
    async killPubsubClients() {
      return Number(await adminCommand(server, ['CLIENT', 'KILL', 'TYPE', 'pubsub']))
    },
    stop,
  }
}
