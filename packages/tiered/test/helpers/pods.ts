import { fileURLToPath } from 'node:url'
import { startChildPod } from '@strata-cache/test-suite/testing'

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
  const child = startChildPod({ name, script: POD, channel: 'ipc', output: 'inherit' })
  const seenWaiters = new Map<string, (at: number) => void>()
  const started = new Promise<void>((resolve) => {
    child.onEvent((message) => {
      if (message.event === 'started') return resolve()
      if (message.event === 'seen') {
        const at = performance.now()
        const key = String(message.key)
        const waiter = seenWaiters.get(key)
        seenWaiters.delete(key)
        waiter?.(at)
      }
    })
  })
  await Promise.race([
    started,
    child.exited.then((code) => {
      throw new Error(`${name} exited with ${code} before it started`)
    }),
  ])
  const pod: Pod = {
    name,
    pid: child.pid,
    call: child.call,
    seen(key) {
      return new Promise((resolve) => seenWaiters.set(key, resolve))
    },
    stop: () => child.stop({ ask: () => child.call('close'), killAfterMs: 3000 }),
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
