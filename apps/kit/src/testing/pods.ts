import { type ChildProcess, spawn } from 'node:child_process'
import { freePort } from '@strata-cache/test-suite/redis-server'

/** One running service process on a loopback port. */
export interface Pod {
  readonly name: string
  readonly url: string
  readonly pid: number
  /** Everything the process printed so far (stdout and stderr). */
  output(): string
  /** Sends a signal to this pod's process only. */
  signal(signal: NodeJS.Signals): void
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>
  /** SIGTERM, then SIGKILL after 5 s; resolves once it is gone. */
  stop(): Promise<void>
  get(path: string, init?: RequestInit): Promise<Response>
  json<T = unknown>(path: string, init?: RequestInit): Promise<{ status: number; headers: Headers; body: T }>
}

/** Starts and runs an app's built service; every pod runs `node dist/main.js` in the app's folder. */
export interface PodLauncher {
  /**
   * Starts `count` pods with the given environment, each on its own free loopback port, and
   * waits until each answers /health.
   */
  startPods(count: number, env: Record<string, string>): Promise<Pod[]>
  /** Starts one pod and waits until it answers /health. */
  startPod(name: string, env: Record<string, string>): Promise<Pod>
  /** Starts a process expected to fail at start; resolves its exit code and output. */
  runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }>
}

/** The launcher of the app in `appDir` (built beforehand, see `buildApp`). */
export function podLauncher(appDir: string): PodLauncher {
  async function startPod(name: string, env: Record<string, string>): Promise<Pod> {
    const port = await freePort()
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const pod = wrap(name, child, `http://127.0.0.1:${port}`)
    await waitUntilHealthy(pod, 20_000)
    return pod
  }

  return {
    startPod,
    startPods: (count, env) =>
      Promise.all(Array.from({ length: count }, (_, i) => startPod(`pod-${i + 1}`, env))),
    async runToExit(env) {
      const child = spawn(process.execPath, ['dist/main.js'], {
        cwd: appDir,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      const pod = wrap('once', child, '')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const code = await pod.exited
      clearTimeout(timer)
      return { code, output: pod.output() }
    },
  }
}

function wrap(name: string, child: ChildProcess, url: string): Pod {
  let text = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const pid = child.pid
  if (pid === undefined) throw new Error(`${name}: the process did not start`)
  const pod: Pod = {
    name,
    url,
    pid,
    exited,
    output: () => text,
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, signal)
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      process.kill(pid, 'SIGTERM')
      const timer = setTimeout(() => pod.signal('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
    get: (path, init) => fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(15_000) }),
    async json<T>(path: string, init?: RequestInit) {
      const response = await pod.get(path, init)
      const body = (response.headers.get('content-type') ?? '').includes('json')
        ? ((await response.json()) as T)
        : ((await response.text()) as T)
      return { status: response.status, headers: response.headers, body }
    },
  }
  return pod
}

async function waitUntilHealthy(pod: Pod, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exitCode: number | null | undefined
  void pod.exited.then((code) => {
    exitCode = code
  })
  while (Date.now() < deadline) {
    if (exitCode !== undefined)
      throw new Error(`${pod.name} exited with ${exitCode} at start:\n${pod.output()}`)
    try {
      const response = await fetch(`${pod.url}/health`, { signal: AbortSignal.timeout(1_000) })
      if (response.ok) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await pod.stop()
  throw new Error(`${pod.name} did not answer /health within ${timeoutMs} ms:\n${pod.output()}`)
}
