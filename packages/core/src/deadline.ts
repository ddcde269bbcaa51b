/**
 * Settles like `promise`, or rejects with `timeoutError()` once `ms` have passed, whichever comes
 * first. The timer is cleared as soon as the promise settles, so it never keeps a process alive.
 * The promise itself keeps running: callers decide what a late result means.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeoutError()), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
