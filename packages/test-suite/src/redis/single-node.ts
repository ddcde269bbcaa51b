/**
 * One `redis-server` process for tests: started on a free loopback port with its own temp dir,
 * signalled (pause, kill, restart) and stopped by pid. REDIS_URL points at an existing server
 * instead (then pause/kill/restart are unavailable).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, LOOPBACK as HOST } from '../testing/free-port.ts'
import { ownProcess, waitForExit } from '../testing/owned-processes.ts'
import { sleep } from '../testing/wait.ts'
import { pingPort } from './resp-client.ts'

const REDIS_SERVER_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server'

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
export class OwnedRedisServer implements RedisServer {
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
    })
    ownProcess(child)
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

/** Starts a server we own on a free port (retrying a few ports), optionally from a config file text. */
export async function startOwned(
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
