/** Forks TypeScript children of this run and makes sure none outlives it: each is killed by its pid. */
import { type ChildProcess, fork } from 'node:child_process'

const live = new Set<ChildProcess>()
let hooked = false

function killAll(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
    }
  }
  live.clear()
}

/**
 * Forks `file` (a .ts module next to this one) with tsx, tracked for cleanup. Without the source
 * condition: Strata's packages load from their built dist, the code users install (tsx's transform
 * of the sources adds a `__name` call per closure created, which the published build does not).
 */
export function forkTs(
  file: string,
  args: readonly string[],
  env: Record<string, string> = {},
): ChildProcess {
  if (!hooked) {
    hooked = true
    process.once('exit', killAll)
  }
  const child = fork(new URL(file, import.meta.url), [...args], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/** Resolves when `child` exits; SIGKILLs it (by pid) if it has not after `timeoutMs`. */
export function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stopChild(child)
    }, timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
}

/** SIGKILL by pid if still running. */
export function stopChild(child: ChildProcess): void {
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
}

/** A forked child exits when its parent goes away (the IPC channel closes), so nothing is orphaned. */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(2))
}

export { killAll as killAllChildren }
