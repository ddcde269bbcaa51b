import type { BreakerState, BusState, InvalidationKind } from './cache-store.ts'

/** Every event `Cache.on()` can deliver, with its payload. */
export interface CacheEventMap {
  /** A read found a value. `stale` is true when it was served within grace. */
  hit: { key: string; tier: string; stale: boolean }
  miss: { key: string }
  set: { key: string; ttlMs: number; tags?: readonly string[] }
  delete: { key: string; deleted: boolean }
  /** `count` is what the authoritative tier removed (local invalidations only). */
  invalidate: {
    kind: InvalidationKind
    source: 'local' | 'bus'
    keys?: readonly string[]
    pattern?: string
    tags?: readonly string[]
    count?: number
  }
  /** A loader run finished (ok) or failed/timed out (not ok). */
  loader: { key: string; durationMs: number; ok: boolean; error?: unknown }
  /** An error the cache absorbed (an L2 failure, a corrupt entry) or passed on to a caller. */
  error: { operation: string; tier: string; error: unknown; key?: string }
  breaker: { tier: string; state: BreakerState; previous: BreakerState }
  bus: { state: BusState; reason?: string; dropped?: number }
  /** Timing of a completed facade operation, emitted only while someone listens. */
  operation: { operation: CacheOperation; durationMs: number; key?: string; tier?: string }
}

export type CacheEventName = keyof CacheEventMap
export type CacheEventListener<E extends CacheEventName> = (event: CacheEventMap[E]) => void
export type CacheOperation =
  | 'get'
  | 'set'
  | 'getOrSet'
  | 'getMany'
  | 'delete'
  | 'invalidate'
  | 'invalidateTags'
  | 'clear'

/**
 * A tiny typed emitter. Listeners live in arrays per event so `has()` is a property read:
 * the Cache checks it before building an event object, so nobody listening costs nothing.
 * A listener that throws is isolated: the call that emitted carries on.
 */
export class CacheEvents {
  private readonly listeners: { [E in CacheEventName]?: CacheEventListener<E>[] } = {}
  /** Listener errors are reported here (default: process warning), never thrown. */
  onListenerError: (error: unknown, event: CacheEventName) => void = (error, event) => {
    process.emitWarning(`strata-cache: a "${event}" listener threw: ${String(error)}`, 'CacheListenerWarning')
  }

  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): () => void {
    const current = this.listeners[event] as CacheEventListener<E>[] | undefined
    // Copy on write so an emit in progress is not disturbed.
    this.listeners[event] = [...(current ?? []), listener] as never
    return () => {
      const current = this.listeners[event] as CacheEventListener<E>[] | undefined
      if (!current) return
      const next = current.filter((l) => l !== listener)
      this.listeners[event] = (next.length > 0 ? next : undefined) as never
    }
  }

  has(event: CacheEventName): boolean {
    return this.listeners[event] !== undefined
  }

  emit<E extends CacheEventName>(event: E, payload: CacheEventMap[E]): void {
    const list = this.listeners[event] as CacheEventListener<E>[] | undefined
    if (list === undefined) return
    for (const listener of list) {
      try {
        listener(payload)
      } catch (error) {
        try {
          this.onListenerError(error, event)
        } catch {
          // Nothing left to report to.
        }
      }
    }
  }

  removeAll(): void {
    for (const name of Object.keys(this.listeners)) delete this.listeners[name as CacheEventName]
  }
}
