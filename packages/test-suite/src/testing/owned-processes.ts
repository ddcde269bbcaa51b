import type { ChildProcess } from 'node:child_process'

// Pids we started and not yet seen exit: killed on process exit so nothing outlives the test run.
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

/** Tracks a child we spawned until it exits; if this process exits first, the child is SIGKILLed. */
export function ownProcess(child: ChildProcess): void {
  installExitHook()
  const pid = child.pid
  if (pid === undefined) return
  livePids.add(pid)
  child.once('exit', () => livePids.delete(pid))
}

/** True until the child has exited (by code or by signal). */
export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

/** Resolves true once the child has exited, false if it is still running after `timeoutMs`. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (!isRunning(child)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}
