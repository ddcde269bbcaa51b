/** What a deadline knows when it fires. */
export interface DeadlineInfo {
  /**
   * How much later than scheduled the timer ran, in ms. A large value means this process's event
   * loop was blocked (CPU, GC, a long synchronous task), not that the awaited work was slow.
   */
  lateMs: number
  /** Blocked time the deadline did not count (with `restartAfterStall`), in ms; 0 when it never restarted. */
  forgivenMs: number
}

export interface DeadlineOptions {
  /**
   * When the timer runs more than half the deadline late — this process's event loop was blocked,
   * so the awaited work had no fair share of the time (a command may not even have been written to
   * its socket yet) — start the deadline over, once. A caller then waits at most the stall plus two
   * deadlines. For deadlines on a remote service; not for bounds a caller was promised (hardTimeout).
   * @default false
   */
  restartAfterStall?: boolean
}

/**
 * Settles like `promise`, or rejects with `timeoutError()` once `ms` have passed, whichever comes
 * first. The timer is cleared as soon as the promise settles, so it never keeps a process alive.
 * The promise itself keeps running: callers decide what a late result means.
 *
 * When the timer fires it gives I/O one turn before rejecting: after an event-loop stall Node runs
 * expired timers before it reads the sockets, so a reply that arrived in time would otherwise be
 * failed together with every other command in flight. setImmediate runs after the poll phase.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  timeoutError: (info: DeadlineInfo) => Error,
  options?: DeadlineOptions,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false
    let mayRestart = options?.restartAfterStall === true
    let forgivenMs = 0
    let started = performance.now()
    const fire = () => {
      if (settled) return
      const lateMs = Math.max(0, performance.now() - started - ms)
      if (mayRestart && lateMs > ms / 2) {
        mayRestart = false
        forgivenMs += lateMs
        started = performance.now()
        timer = setTimeout(fire, ms)
        return
      }
      setImmediate(() => {
        if (settled) return
        settled = true
        reject(timeoutError({ lateMs, forgivenMs }))
      })
    }
    let timer = setTimeout(fire, ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        if (settled) return
        settled = true
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        if (settled) return
        settled = true
        reject(error)
      },
    )
  })
}
