/**
 * Starts real `redis-server` processes for tests, benchmarks and demo scripts: a single node or a
 * 3-master cluster, each on free loopback ports with its own temp dir, stopped by pid (and on exit).
 * Set REDIS_URL to use an existing server instead (then pause/kill/restart are unavailable), and
 * REDIS_CLUSTER_NODES=host:port,host:port,... to use an existing cluster.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const HOST = '127.0.0.1'
const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server'
const REDIS_CLI_BIN = process.env.REDIS_CLI_BIN ?? 'redis-cli'

export interface RedisServerOptions {
  /** Sets `requirepass`; the url then carries it (`redis://:password@127.0.0.1:port`). */
  password?: string
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '64mb']`. */
  args?: readonly string[]
  /** How long to wait for PING to answer. @default 10000 */
  startTimeoutMs?: number
  /** Ignore REDIS_URL and always start a server (outage tests that need pause/kill). @default false */
  ownServer?: boolean
}

export interface RedisServer {
  /** `redis://[:password@]127.0.0.1:port` */
  readonly url: string
  readonly host: string
  readonly port: number
  /** Pid of the running process; undefined for an external server (REDIS_URL). */
  readonly pid: number | undefined
  readonly password: string | undefined
  /** True when REDIS_URL pointed us at a server we did not start: pause/resume/kill/restart throw. */
  readonly external: boolean
  /** SIGTERM, wait for exit (SIGKILL after 5 s), remove the temp dir. Idempotent. */
  stop(): Promise<void>
  /** SIGSTOP: the server hangs, connections stay open, commands time out. */
  pause(): void
  /** SIGCONT after pause(). */
  resume(): void
  /** SIGKILL and wait for exit: connections drop, data is gone (no persistence). */
  kill(): Promise<void>
  /** Starts the server again on the same port with the same configuration (stops it first if running). */
  restart(): Promise<void>
  /** True when PING answers within `timeoutMs`. */
  ping(timeoutMs?: number): Promise<boolean>
}

export interface RedisClusterNode {
  host: string
  port: number
}

export interface RedisClusterOptions {
  /** Number of masters. @default 3 */
  masters?: number
  /** How long to wait for `cluster_state:ok`. @default 20000 */
  startTimeoutMs?: number
}

export interface RedisCluster {
  /** Seed nodes for ioredis `new Cluster(nodes)`. */
  readonly nodes: readonly RedisClusterNode[]
  /** The servers (empty for an external cluster). */
  readonly servers: readonly RedisServer[]
  readonly external: boolean
  stop(): Promise<void>
}

// Pids we started and not yet stopped: killed on process exit so nothing outlives the test run.
const livePids = new Set<number>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const pid of livePids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  })
}

/** A port nobody listens on right now: bind port 0 on loopback, read it, release it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('freePort: no port assigned'))))
    })
  })
}

function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`
  return out
}

/**
 * Sends commands on a fresh connection and resolves the raw reply text once `done(text)` holds
 * (or rejects on timeout). Enough RESP for PING, AUTH and CLUSTER INFO; no client library needed.
 */
function rawCommands(
  port: number,
  commands: readonly (readonly string[])[],
  done: (text: string) => boolean,
  timeoutMs: number,
  host = HOST,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket()
    let text = ''
    const timer = setTimeout(
      () => finish(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    )
    function finish(error?: Error): void {
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(text)
    }
    socket.once('error', (error) => finish(error))
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8')
      if (done(text)) finish()
    })
    socket.connect(port, host, () => socket.write(commands.map(encodeCommand).join('')))
  })
}

async function pingPort(
  port: number,
  password: string | undefined,
  timeoutMs: number,
  host = HOST,
): Promise<boolean> {
  const commands: string[][] = password === undefined ? [['PING']] : [['AUTH', password], ['PING']]
  try {
    const reply = await rawCommands(
      port,
      commands,
      (t) => t.includes('+PONG') || t.includes('-'),
      timeoutMs,
      host,
    )
    return reply.includes('+PONG')
  } catch {
    return false
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

function parseRedisUrl(url: string): { host: string; port: number; password: string | undefined } {
  const parsed = new URL(url)
  return {
    host: parsed.hostname || HOST,
    port: Number(parsed.port || 6379),
    password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
  }
}

function externalServer(url: string): RedisServer {
  const { host, port, password } = parseRedisUrl(url)
  const unavailable = (what: string) => () => {
    throw new Error(`${what} is unavailable: REDIS_URL points at a server these tests did not start`)
  }
  return {
    url,
    host,
    port,
    pid: undefined,
    password,
    external: true,
    stop: async () => {},
    pause: unavailable('pause()'),
    resume: unavailable('resume()'),
    kill: async () => unavailable('kill()')(),
    restart: async () => unavailable('restart()')(),
    ping: (timeoutMs = 1000) => pingPort(port, password, timeoutMs, host),
  }
}

/** One owned redis-server process: spawn, wait for PING, signal, stop. */
class OwnedRedisServer implements RedisServer {
  readonly host = HOST
  readonly external = false
  readonly url: string
  private child: ChildProcess | undefined
  private readonly dir: string

  constructor(
    readonly port: number,
    readonly password: string | undefined,
    private readonly args: readonly string[],
    private readonly startTimeoutMs: number,
    /** Written to `<dir>/redis.conf` and passed first (sentinel mode needs a writable config file). */
    private readonly configText?: string,
  ) {
    const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`
    this.url = `redis://${auth}${HOST}:${port}`
    this.dir = mkdtempSync(join(tmpdir(), 'strata-redis-'))
    if (configText !== undefined) writeFileSync(join(this.dir, 'redis.conf'), configText)
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  /** Spawns and waits for PING; rejects (with the log tail) if the process exits first, e.g. port taken. */
  async start(): Promise<void> {
    installExitHook()
    const argv = [
      ...(this.configText === undefined ? [] : [join(this.dir, 'redis.conf')]),
      '--port',
      String(this.port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--logfile',
      join(this.dir, 'redis.log'),
      '--daemonize',
      'no',
      ...(this.password === undefined ? [] : ['--requirepass', this.password]),
      ...this.args,
    ]
    const child = spawn(REDIS_SERVER_BIN, argv, { stdio: 'ignore' })
    // Plain node scripts that forget stop() can still exit; the exit hook then kills the server.
    child.unref()
    this.child = child
    let exited = false
    let spawnError: Error | undefined
    child.once('error', (error) => {
      spawnError = error
      exited = true
    })
    child.once('exit', () => {
      exited = true
      if (child.pid !== undefined) livePids.delete(child.pid)
    })
    if (child.pid !== undefined) livePids.add(child.pid)
    const deadline = Date.now() + this.startTimeoutMs
    while (Date.now() < deadline) {
      if (exited) {
        this.child = undefined
        if (spawnError) {
          throw new Error(
            `cannot start ${REDIS_SERVER_BIN}: ${spawnError.message} (install it: apt-get install redis-server, brew install redis)`,
          )
        }
        throw new Error(`redis-server on port ${this.port} exited at start: ${this.logTail()}`)
      }
      if (await pingPort(this.port, this.password, 500)) return
      await sleep(25)
    }
    await this.kill()
    throw new Error(`redis-server on port ${this.port} did not answer PING within ${this.startTimeoutMs} ms`)
  }

  logTail(): string {
    try {
      return readFileSync(join(this.dir, 'redis.log'), 'utf8').trim().split('\n').slice(-5).join(' | ')
    } catch {
      return '(no log)'
    }
  }

  private signal(signal: NodeJS.Signals): void {
    const pid = this.child?.pid
    if (pid === undefined) throw new Error(`redis-server on port ${this.port} is not running`)
    process.kill(pid, signal)
  }

  pause(): void {
    this.signal('SIGSTOP')
  }

  resume(): void {
    this.signal('SIGCONT')
  }

  async kill(): Promise<void> {
    const child = this.child
    if (child === undefined) return
    this.child = undefined
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid!, 'SIGKILL')
      } catch {
        // Already gone.
      }
      await waitForExit(child, 5000)
    }
  }

  private async terminate(): Promise<void> {
    const child = this.child
    if (child === undefined) return
    this.child = undefined
    if (child.exitCode !== null || child.signalCode !== null) return
    try {
      process.kill(child.pid!, 'SIGTERM')
      // A paused server only acts on SIGTERM once continued.
      process.kill(child.pid!, 'SIGCONT')
    } catch {
      return
    }
    if (!(await waitForExit(child, 5000))) {
      try {
        process.kill(child.pid!, 'SIGKILL')
      } catch {
        // Already gone.
      }
      await waitForExit(child, 5000)
    }
  }

  async restart(): Promise<void> {
    await this.terminate()
    // The port may linger briefly after the old process dies; retry a few times.
    let lastError: unknown
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await this.start()
        return
      } catch (error) {
        lastError = error
        await sleep(100)
      }
    }
    throw lastError
  }

  async stop(): Promise<void> {
    await this.terminate()
    rmSync(this.dir, { recursive: true, force: true })
  }

  ping(timeoutMs = 1000): Promise<boolean> {
    return pingPort(this.port, this.password, timeoutMs)
  }
}

/**
 * Starts `redis-server` on a free loopback port (or returns REDIS_URL's server) and resolves once
 * PING answers. Always `await server.stop()` when done (afterAll, globalSetup teardown, finally).
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const envUrl = process.env.REDIS_URL
  if (envUrl && options.ownServer !== true) return externalServer(envUrl)
  return startOwned(options.password, options.args ?? [], options.startTimeoutMs ?? 10_000)
}

async function startOwned(
  password: string | undefined,
  args: readonly string[],
  startTimeoutMs: number,
  configText?: string,
): Promise<OwnedRedisServer> {
  // Another process may grab the port between freePort() and the bind: try a few ports.
  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    const server = new OwnedRedisServer(await freePort(), password, args, startTimeoutMs, configText)
    try {
      await server.start()
      return server
    } catch (error) {
      lastError = error
      await server.stop()
      if (/cannot start/.test(String(error))) break
    }
  }
  throw lastError
}

function runRedisCli(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI_BIN, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.join(' ')} failed: ${error.message} ${stderr}`))
      else resolve(stdout)
    })
  })
}

async function clusterStateOk(port: number): Promise<boolean> {
  try {
    const reply = await rawCommands(
      port,
      [['CLUSTER', 'INFO']],
      (t) => t.includes('cluster_stats_messages') || t.startsWith('-'),
      1000,
    )
    return reply.includes('cluster_state:ok')
  } catch {
    return false
  }
}

/**
 * Starts a Redis Cluster of `masters` (default 3) nodes without replicas on free loopback ports,
 * joins them with `redis-cli --cluster create`, and resolves once every node says cluster_state:ok.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const envNodes = process.env.REDIS_CLUSTER_NODES
  if (envNodes) {
    const nodes = envNodes.split(',').map((pair) => {
      const [host, port] = pair.trim().split(':')
      return { host: host || HOST, port: Number(port) }
    })
    return { nodes, servers: [], external: true, stop: async () => {} }
  }
  const masters = options.masters ?? 3
  const startTimeoutMs = options.startTimeoutMs ?? 20_000
  const servers: OwnedRedisServer[] = []
  const stopAll = async () => {
    await Promise.all(servers.map((server) => server.stop()))
  }
  try {
    for (let i = 0; i < masters; i++) {
      // The bus port defaults to port + 10000, which may be taken or out of range: pick it explicitly.
      const busPort = await freePort()
      const server = await startOwned(
        undefined,
        [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
          '--cluster-port',
          String(busPort),
        ],
        10_000,
      )
      servers.push(server)
    }
    await runRedisCli(
      [
        '--cluster',
        'create',
        ...servers.map((s) => `${HOST}:${s.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      startTimeoutMs,
    )
    const deadline = Date.now() + startTimeoutMs
    for (;;) {
      const states = await Promise.all(servers.map((s) => clusterStateOk(s.port)))
      if (states.every(Boolean)) break
      if (Date.now() > deadline)
        throw new Error(`cluster did not reach cluster_state:ok within ${startTimeoutMs} ms`)
      await sleep(100)
    }
  } catch (error) {
    await stopAll()
    throw error
  }
  return {
    nodes: servers.map((s) => ({ host: HOST, port: s.port })),
    servers,
    external: false,
    stop: stopAll,
  }
}

export interface RedisSentinelOptions {
  /** Master group name. @default 'mymaster' */
  name?: string
  /** How long to wait for the sentinel to answer PING. @default 10000 */
  startTimeoutMs?: number
}

/**
 * Starts one Redis Sentinel (`redis-server <conf> --sentinel`) on a free loopback port, monitoring
 * `master` under `name` (quorum 1). The returned server's `port` is the sentinel's; stop it by `stop()`.
 */
export async function startRedisSentinel(
  master: Pick<RedisServer, 'host' | 'port' | 'password'>,
  options: RedisSentinelOptions = {},
): Promise<RedisServer & { readonly name: string }> {
  const name = options.name ?? 'mymaster'
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`startRedisSentinel: invalid master name "${name}"`)
  const lines = [
    `sentinel monitor ${name} ${master.host} ${master.port} 1`,
    `sentinel down-after-milliseconds ${name} 1000`,
    ...(master.password === undefined ? [] : [`sentinel auth-pass ${name} ${master.password}`]),
  ]
  const server = await startOwned(
    undefined,
    ['--sentinel'],
    options.startTimeoutMs ?? 10_000,
    `${lines.join('\n')}\n`,
  )
  return Object.assign(server, { name })
}
