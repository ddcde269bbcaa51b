import { CacheError, CacheErrorCode, type StoreEvent, type StoreEventListener } from '@strata-cache/core'
import { ListenerSet } from '@strata-cache/core/internal'

/** An error the caller did not cause: the store absorbs it (miss / no-op) and reports it. */
export function unavailable(message: string, cause?: unknown, key?: string): CacheError {
  return new CacheError(CacheErrorCode.STORE_UNAVAILABLE, message, { cause, key })
}

/**
 * A store's listeners (one policy for a throwing listener: see ListenerSet), and the count of
 * errors it absorbed (listened to or not).
 */
export class StoreEvents {
  private readonly listeners: ListenerSet<StoreEvent>
  /** Every error reported, including the fail-fast calls of an open breaker. */
  errorCount = 0

  /** @param tier the store's name, the `tier` of its error events. */
  constructor(readonly tier: string) {
    this.listeners = new ListenerSet(`${tier} store`)
  }

  /** How many listeners there are: check it before building an event nobody would read. */
  get size(): number {
    return this.listeners.size
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: StoreEventListener): () => void {
    return this.listeners.add(listener)
  }

  /** Calls every listener; one that throws becomes a process warning, never a caller's error. */
  emit(event: StoreEvent): void {
    this.listeners.emit(event)
  }

  /** Counts an absorbed error and tells the listeners (an `error` event naming the operation and key). */
  report(operation: string, error: unknown, key?: string): void {
    this.errorCount++
    if (this.listeners.size === 0) return
    const event: StoreEvent = { type: 'error', operation, tier: this.tier, error }
    if (key !== undefined) event.key = key
    this.emit(event)
  }

  clear(): void {
    this.listeners.clear()
  }
}
