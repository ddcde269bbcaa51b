/** Polls `check` every few ms until it holds; fails after `timeoutMs`, naming `what`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Resolves once `check` has held for `forMs` without a break (polled every 5 ms); rejects after
 * `timeoutMs`. For a state that settles in the background (connections of a client warming up).
 */
export async function steady(check: () => boolean, forMs = 50, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  let since = performance.now()
  while (performance.now() < deadline) {
    if (!check()) since = performance.now()
    else if (performance.now() - since >= forMs) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`not steady for ${forMs} ms within ${timeoutMs} ms`)
}
