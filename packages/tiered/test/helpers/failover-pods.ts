import { fileURLToPath } from 'node:url'
import { startChildPod } from '@strata-cache/test-suite/testing'

const POD = fileURLToPath(new URL('../fixtures/failover-pod.ts', import.meta.url))

/** A failover-test pod process (fixtures/failover-pod.ts). */
export interface FailoverPod {
  readonly name: string
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>
  stop(): Promise<void>
}

/** What a pod's background load counted: callers' errors and the slowest call of each kind, ms. */
export interface LoadFigures {
  ops: number
  errors: number
  samples: string[]
  slowestMs: Record<string, number>
}

/** What a pod reports about its tiers. */
export interface FailoverPodStatus {
  busConnected: boolean
  l2Available: boolean
  bus: { reconnects: number; gaps: number; pending: number }
  repairs: { pending: number; queued: number; replayed: number }
  busStates: string[]
}

/** Forks a pod (tsx, source condition) and builds its cache from `init` (`cluster` or `sentinel`, `prefix`); stopped by pid. */
export async function startFailoverPod(name: string, init: Record<string, unknown>): Promise<FailoverPod> {
  const child = startChildPod({ name, script: POD, channel: 'ipc', output: 'inherit' })
  await new Promise<void>((resolve, reject) => {
    child.onEvent((message) => {
      if (message.event === 'started') resolve()
    })
    child.exited.then((code) => reject(new Error(`${name} exited with ${code} before it started`)))
  })
  const pod: FailoverPod = {
    name,
    call: child.call,
    stop: () => child.stop({ ask: () => child.call('close'), killAfterMs: 3000 }),
  }
  if (!(await pod.call<boolean>('init', { instanceId: name, ...init }))) {
    await pod.stop()
    throw new Error(`${name}: bus not connected after init`)
  }
  return pod
}
