import { type StdioOptions, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { isRunning, ownProcess } from './owned-processes.ts'

/** How the parent talks to a pod: IPC messages, JSON lines on stdin/stdout, or not at all (e.g. HTTP). */
export type PodChannel = 'ipc' | 'stdio' | 'none'

/** Options of {@link startChildPod}. */
export interface ChildPodOptions {
  /** Shown in errors, and kept as `pod.name`. */
  name: string
  /** The script node runs: absolute, or relative to `cwd`. */
  script: string
  /** Arguments after the script. @default [] */
  args?: readonly string[]
  /** Working directory of the child. @default the parent's */
  cwd?: string
  /** The child's whole environment. @default process.env */
  env?: NodeJS.ProcessEnv
  /**
   * Run a TypeScript fixture on the workspace sources (`--conditions=@strata-cache/source --import
   * tsx`); false for a built script such as `dist/main.js`. @default true
   */
  source?: boolean
  /**
   * `'ipc'`: `process.send` with advanced serialization, see {@link ChildPod.call};
   * `'stdio'`: one JSON line per message on stdin/stdout, see {@link ChildPod.request};
   * `'none'`: the test reaches the pod some other way. @default 'ipc'
   */
  channel?: PodChannel
  /**
   * `'capture'` keeps stdout and stderr for {@link ChildPod.output} (under `'stdio'` stdout is the
   * channel, so only stderr); `'inherit'` prints them with the test's own output. @default 'capture'
   */
  output?: 'capture' | 'inherit'
  /** How long `call` and `request` wait for an answer before rejecting; no limit when left out. */
  replyTimeoutMs?: number
}

/** What an IPC pod sends on its own (not as an answer): `{ event: 'started' }`, `{ event: 'seen', key }`, … */
export interface PodEvent {
  event: string
  [field: string]: unknown
}

/** Options of {@link ChildPod.stop}. */
export interface PodStopOptions {
  /** Asks the pod to end itself, e.g. `() => pod.call('close')` (a failure is ignored); without it the pod gets SIGTERM. */
  ask?: () => Promise<unknown>
  /** SIGKILL if the pod still runs this long after the ask or the SIGTERM. @default 5000 */
  killAfterMs?: number
}

/** One child process running a fixture or a service, driven by the test and stopped by pid. */
export interface ChildPod {
  readonly name: string
  readonly pid: number
  /** Resolves with the exit code (null after a signal) once the process has exited. */
  readonly exited: Promise<number | null>
  /** True until the process has exited. */
  running(): boolean
  /** Everything captured from stdout and stderr so far (see the `output` option). */
  output(): string
  /** Sends a signal to this pod's process only; nothing once it has exited. */
  signal(signal: NodeJS.Signals): void
  /**
   * IPC: sends `{ id, op, args }` and resolves with `value` of the pod's `{ id, ok: true, value }`,
   * or rejects with `"<name>: <error>"` on `{ id, ok: false, error }` and when the pod exits first.
   */
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>
  /** IPC: calls `listener` for every message carrying an `event` field; returns the unsubscribe function. */
  onEvent(listener: (message: PodEvent) => void): () => void
  /** stdio: writes `message` as one JSON line and resolves with the next line the pod prints, parsed. */
  request<T = unknown>(message: unknown): Promise<T>
  /** Ends the pod (see {@link PodStopOptions}) and resolves once it has exited. Idempotent. */
  stop(options?: PodStopOptions): Promise<void>
}

interface Waiter {
  resolve(value: unknown): void
  reject(error: Error): void
}

interface IpcMessage {
  id?: number
  ok?: boolean
  value?: unknown
  error?: string
  event?: string
}

/** The node flags that run a TypeScript fixture on the workspace sources. */
export const SOURCE_EXEC_ARGV: readonly string[] = ['--conditions=@strata-cache/source', '--import', 'tsx']

/**
 * Spawns `node <script>` (on the sources through tsx by default) as a pod the test talks to over
 * IPC or stdio and stops by pid; if the test process exits first, the pod is killed.
 */
export function startChildPod(options: ChildPodOptions): ChildPod {
  const { name, channel = 'ipc', replyTimeoutMs } = options
  const out = options.output === 'inherit' ? 'inherit' : 'pipe'
  const stdio: StdioOptions =
    channel === 'ipc'
      ? ['ignore', out, out, 'ipc']
      : [channel === 'stdio' ? 'pipe' : 'ignore', channel === 'stdio' ? 'pipe' : out, out]
  const child = spawn(
    process.execPath,
    [...(options.source === false ? [] : SOURCE_EXEC_ARGV), options.script, ...(options.args ?? [])],
    {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio,
      ...(channel === 'ipc' ? { serialization: 'advanced' as const } : {}),
    },
  )
  const pid = child.pid
  if (pid === undefined) throw new Error(`${name}: the process did not start`)
  ownProcess(child)

  let text = ''
  const capture = (chunk: Buffer) => {
    text += chunk.toString()
  }
  if (channel !== 'stdio') child.stdout?.on('data', capture)
  child.stderr?.on('data', capture)

  const pending = new Map<number, Waiter>()
  const lineWaiters: Waiter[] = []
  const listeners = new Set<(message: PodEvent) => void>()
  let nextId = 0

  child.on('error', (error) => {
    text += `\n${name}: ${error.message}`
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      for (const waiter of pending.values()) waiter.reject(new Error(`${name} exited`))
      pending.clear()
      resolve(code)
    }),
  )
  // A line printed just before exit may be read after 'exit': stdio waiters fail once stdout closed.
  child.once('close', () => {
    for (const waiter of lineWaiters.splice(0)) waiter.reject(new Error(`${name} exited`))
  })

  if (channel === 'ipc') {
    child.on('message', (message: IpcMessage) => {
      if (message?.event !== undefined) {
        for (const listener of listeners) listener(message as PodEvent)
        return
      }
      const waiter = pending.get(message.id!)
      if (waiter === undefined) return
      pending.delete(message.id!)
      if (message.ok) waiter.resolve(message.value)
      else waiter.reject(new Error(`${name}: ${message.error}`))
    })
  }
  if (channel === 'stdio') {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const waiter = lineWaiters.shift()
      if (waiter === undefined) return
      try {
        waiter.resolve(JSON.parse(line))
      } catch (error) {
        waiter.reject(new Error(`${name} printed a line that is not JSON: ${line} (${String(error)})`))
      }
    })
  }

  /** Settles `waiter` at most once, rejecting it after `replyTimeoutMs` if set. */
  function bounded(waiter: Waiter, onTimeout: () => void): Waiter {
    if (replyTimeoutMs === undefined) return waiter
    const timer = setTimeout(() => {
      onTimeout()
      waiter.reject(new Error(`${name} did not answer within ${replyTimeoutMs} ms: ${text}`))
    }, replyTimeoutMs)
    return {
      resolve: (value) => {
        clearTimeout(timer)
        waiter.resolve(value)
      },
      reject: (error) => {
        clearTimeout(timer)
        waiter.reject(error)
      },
    }
  }

  const pod: ChildPod = {
    name,
    pid,
    exited,
    running: () => isRunning(child),
    output: () => text,
    signal(signal) {
      if (isRunning(child)) process.kill(pid, signal)
    },
    call<T>(op: string, args: Record<string, unknown> = {}) {
      if (channel !== 'ipc') return Promise.reject(new Error(`${name}: call() needs channel 'ipc'`))
      return new Promise<T>((resolve, reject) => {
        const id = ++nextId
        pending.set(
          id,
          bounded({ resolve: resolve as (value: unknown) => void, reject }, () => pending.delete(id)),
        )
        child.send({ id, op, args }, (error) => {
          if (error === null || !pending.has(id)) return
          pending.get(id)!.reject(new Error(`${name}: cannot send ${op}: ${error.message}`))
          pending.delete(id)
        })
      })
    },
    onEvent(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    request<T>(message: unknown) {
      if (channel !== 'stdio') return Promise.reject(new Error(`${name}: request() needs channel 'stdio'`))
      return new Promise<T>((resolve, reject) => {
        // A timed-out waiter keeps its place: the pod answers in order, so its late line is its own.
        lineWaiters.push(bounded({ resolve: resolve as (value: unknown) => void, reject }, () => {}))
        child.stdin!.write(`${JSON.stringify(message)}\n`)
      })
    },
    async stop({ ask, killAfterMs = 5000 } = {}) {
      if (!isRunning(child)) return
      if (ask === undefined) pod.signal('SIGTERM')
      else await ask().catch(() => {})
      const timer = setTimeout(() => pod.signal('SIGKILL'), killAfterMs)
      await exited
      clearTimeout(timer)
    },
  }
  return pod
}
