import { type ChildPod, freePort, sleep, startChildPod } from '@strata-cache/test-suite/testing'

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
    const child = startChildPod({
      name,
      script: 'dist/main.js',
      cwd: appDir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
      source: false,
      channel: 'none',
    })
    const pod = wrap(child, `http://127.0.0.1:${port}`)
    await waitUntilHealthy(pod, 20_000)
    return pod
  }

  return {
    startPod,
    startPods: (count, env) =>
      Promise.all(Array.from({ length: count }, (_, i) => startPod(`pod-${i + 1}`, env))),
    async runToExit(env) {
      const child = startChildPod({
        name: 'once',
        script: 'dist/main.js',
        cwd: appDir,
        env: { PATH: process.env.PATH ?? '', ...env },
        source: false,
        channel: 'none',
      })
      const timer = setTimeout(() => child.signal('SIGKILL'), 15_000)
      const code = await child.exited
      clearTimeout(timer)
      return { code, output: child.output() }
    },
  }
}

/** An app pod: the shared child-process launcher plus HTTP against its port. */
function wrap(child: ChildPod, url: string): Pod {
  const pod: Pod = {
    name: child.name,
    url,
    pid: child.pid,
    exited: child.exited,
    output: child.output,
    signal: child.signal,
    stop: () => child.stop({ killAfterMs: 5_000 }),
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
    await sleep(100)
  }
  await pod.stop()
  throw new Error(`${pod.name} did not answer /health within ${timeoutMs} ms:\n${pod.output()}`)
}
