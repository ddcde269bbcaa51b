import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

/** The repository root. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** Builds the thermal app into apps/thermal/dist/main.js (workspace packages are bundled from source). */
export function buildThermal(): void {
  const result = spawnSync('pnpm', ['--filter', '@strata-cache/thermal', 'run', 'build'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  if (result.status !== 0) {
    throw new Error('building apps/thermal failed (did you run `pnpm install`?)')
  }
}

/** A port that is free right now on loopback: `preferred` when it is, else one the OS picks. */
export function freePort(preferred = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (preferred !== 0 && error.code === 'EADDRINUSE') resolve(freePort(0))
      else reject(error)
    })
    server.listen(preferred, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** One thermal process we started; stopped by its pid only. */
export interface DemoPod {
  readonly name: string
  readonly url: string
  readonly pid: number
  readonly child: ChildProcess
  stop(): Promise<void>
}

/** Starts `node apps/thermal/dist/main.js` on a loopback port and waits for /health. */
export async function startThermal(
  name: string,
  env: Record<string, string>,
  inheritOutput = false,
): Promise<DemoPod> {
  const port = Number(env.PORT ?? (await freePort()))
  const child = spawn(process.execPath, ['apps/thermal/dist/main.js'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: inheritOutput ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'ignore', 'pipe'],
  })
  let errors = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString()
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const pid = child.pid
  if (pid === undefined) throw new Error(`${name}: could not start node`)
  const pod: DemoPod = {
    name,
    url: `http://127.0.0.1:${port}`,
    pid,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      process.kill(pid, 'SIGTERM')
      const timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL')
      }, 10_000)
      await exited
      clearTimeout(timer)
    },
  }
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${name} exited at start (code ${child.exitCode}):\n${errors}`)
    try {
      if ((await fetch(`${pod.url}/health`, { signal: AbortSignal.timeout(1_000) })).ok) return pod
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await pod.stop()
  throw new Error(`${name} did not answer /health within 20 s:\n${errors}`)
}
