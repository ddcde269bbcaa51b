import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const POD = fileURLToPath(new URL('../fixtures/pod.ts', import.meta.url))

export interface Pod {
  readonly name: string
  readonly pid: number
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>
  /** Resolves (parent clock, performance.now()) when the pod reports a watched key showing its expected value. */
  seen(key: string): Promise<number>
  stop(): Promise<void>
}

/** Forks a pod process (tsx, source condition) and initialises its cache; stop() closes and ends it by pid. */
export async function startPod(name: string, init: Record<string, unknown>): Promise<Pod> {
  const child: ChildProcess = fork(POD, [], {
    execArgv: ['--conditions=@strata-cache/source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  })
  let nextId = 0
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  const seenWaiters = new Map<string, (at: number) => void>()
  let started!: () => void
  const startedPromise = new Promise<void>((resolve) => {
    started = resolve
  })
  child.on(
    'message',
    (message: {
      id?: number
      ok?: boolean
      value?: unknown
      error?: string
      event?: string
      key?: string
    }) => {
      if (message.event === 'started') return started()
      if (message.event === 'seen') {
        const at = performance.now()
        const waiter = seenWaiters.get(message.key!)
        seenWaiters.delete(message.key!)
        waiter?.(at)
        return
      }
      const request = pending.get(message.id!)
      if (request === undefined) return
      pending.delete(message.id!)
      if (message.ok) request.resolve(message.value)
      else request.reject(new Error(`${name}: ${message.error}`))
    },
  )
  child.on('exit', () => {
    for (const request of pending.values()) request.reject(new Error(`${name} exited`))
    pending.clear()
  })
  await startedPromise
  const pod: Pod = {
    name,
    pid: child.pid!,
    call<T>(op: string, args: Record<string, unknown> = {}) {
      return new Promise<T>((resolve, reject) => {
        const id = ++nextId
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        child.send({ id, op, args })
      })
    },
    seen(key) {
      return new Promise((resolve) => seenWaiters.set(key, resolve))
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      await pod.call('close').catch(() => {})
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    },
  }
  const ready = await pod.call<boolean>('init', { instanceId: name, ...init })
  if (!ready) throw new Error(`${name}: bus not connected after init`)
  return pod
}

/** Latency percentiles in ms. */
export function percentiles(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? 0 }
}
