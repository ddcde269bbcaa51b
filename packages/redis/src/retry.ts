import type { Duration } from '@strata-cache/core'

/** How reconnection attempts are spaced: exponential from `baseDelay` up to `maxDelay`, with jitter. */
export interface RetryOptions {
  /** First reconnect delay; doubles on every attempt. @default 50 (ms) */
  baseDelay?: Duration
  /** Ceiling of the reconnect delay. @default 1000 (ms) */
  maxDelay?: Duration
}

/** {@link RetryOptions} resolved to milliseconds. */
export interface ResolvedRetryOptions {
  baseDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_RETRY = { baseDelayMs: 50, maxDelayMs: 1000 } as const

/**
 * Delay before reconnect attempt `attempt` (1-based): exponential, capped, with "equal jitter"
 * (half fixed, half random) so that many pods losing Redis at once do not reconnect in lockstep,
 * yet no attempt comes sooner than half its step.
 */
export function reconnectDelay(
  attempt: number,
  options: Partial<ResolvedRetryOptions> = {},
  random: () => number = Math.random,
): number {
  const base = options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs
  const max = options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs
  // Cap the exponent first: 2 ** 1000 is Infinity.
  const step = Math.min(max, base * 2 ** Math.min(Math.max(attempt - 1, 0), 30))
  return Math.round(step / 2 + random() * (step / 2))
}
