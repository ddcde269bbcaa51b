/** What a deadline knows when it fires. */
export interface DeadlineInfo {
  /**
   * How much later than scheduled the timer ran, in ms. A large value means this process's event
   * loop was blocked (CPU, GC, a long synchronous task), not that the awaited work was slow.
   */
  lateMs: number
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
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const started = performance.now()
    const timer = setTimeout(() => {
      const lateMs = Math.max(0, performance.now() - started - ms)
      setImmediate(() => {
        if (settled) return
        settled = true
        reject(timeoutError({ lateMs }))
      })
    }, ms)
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
