import type { BreakerState, BusState, InvalidationKind, StoreEvent } from './cache-store.ts'
import type { ChannelEvent } from './channels.ts'
import { ListenerSet } from './listener-set.ts'

/** Every event `Cache.on()` can deliver, with its payload. */
export interface CacheEventMap {
  /** A read found a value. `stale` is true when it was served within grace. */
  hit: { key: string; tier: string; stale: boolean }
  /** A read found nothing servable. */
  miss: { key: string }
  /** An entry was written (by `set` or a loader run). */
  set: { key: string; ttlMs: number; tags?: readonly string[] }
  /** `delete` ran; `deleted` says whether the authoritative tier had the key. */
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
  /** A hit near expiry started a background reload of `key` (refresh-ahead); its outcome is a `loader` event. */
  refresh: { key: string }
  /** A loader run finished (ok) or failed/timed out (not ok). */
  loader: { key: string; durationMs: number; ok: boolean; error?: unknown }
  /**
   * An error the cache absorbed (an L2 failure, a corrupt entry) or passed on to a caller. `count`
   * (when more than one) is how many failures the event stands for: repeats of one error, such as
   * the calls an open circuit breaker refused, reported together instead of one event per call.
   */
  error: { operation: string; tier: string; error: unknown; key?: string; count?: number }
  /** A tier's circuit breaker changed state. */
  breaker: { tier: string; state: BreakerState; previous: BreakerState }
  /** The invalidation bus changed state; `dropped` counts notices lost. */
  bus: { state: BusState; reason?: string; dropped?: number }
  /** Application channels: `gap` (subscribed again after a drop: messages may be lost) or `dropped` (a message refused on receipt). */
  channel: ChannelEvent
  /** Timing of a completed facade operation, emitted only while someone listens. */
  operation: { operation: CacheOperation; durationMs: number; key?: string; tier?: string }
}

/** The name of an event `Cache.on()` delivers. */
export type CacheEventName = keyof CacheEventMap
/** A listener of one Cache event. */
export type CacheEventListener<E extends CacheEventName> = (event: CacheEventMap[E]) => void
/** The facade operation an `operation` event times. */
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
 * The Cache's typed emitter: one ListenerSet per event, so a throwing listener meets the one policy
 * of every Strata emitter (`reportListenerError`: the call that emitted carries on, the other
 * listeners still run, the error becomes a `CacheListenerWarning`). Sets live in a record per
 * event so `has()` is a property read: the Cache checks it before building an event object, so
 * nobody listening costs nothing.
 */
export class CacheEvents {
  private readonly sets: { [E in CacheEventName]?: ListenerSet<CacheEventMap[E]> } = {}

  /** Adds a listener; returns the function that removes it. */
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): () => void {
    const sets = this.sets as Record<E, ListenerSet<CacheEventMap[E]> | undefined>
    let set = sets[event]
    if (set === undefined) {
      set = new ListenerSet<CacheEventMap[E]>(`cache "${event}"`)
      sets[event] = set
    }
    const remove = set.add(listener)
    return () => {
      remove()
      if (set.size === 0 && sets[event] === set) sets[event] = undefined
    }
  }

  /** Whether anyone listens to `event`. */
  has(event: CacheEventName): boolean {
    return this.sets[event] !== undefined
  }

  /** Calls every listener of `event`; one that throws is reported, never rethrown. */
  emit<E extends CacheEventName>(event: E, payload: CacheEventMap[E]): void {
    const set = this.sets[event] as ListenerSet<CacheEventMap[E]> | undefined
    if (set !== undefined) set.emit(payload)
  }

  /** Re-emits an event a store raised by itself as the Cache's event of the same name. */
  relay(event: StoreEvent): void {
    switch (event.type) {
      case 'error':
      case 'bus':
      case 'channel':
      case 'invalidate': {
        if (!this.has(event.type)) return
        const { type, ...payload } = event
        this.emit(type, payload as CacheEventMap[typeof type])
        return
      }
      case 'breaker':
        if (this.has('breaker'))
          this.emit('breaker', { tier: event.tier, state: event.state, previous: event.previous })
        return
    }
  }

  /** Removes every listener. */
  removeAll(): void {
    for (const name of Object.keys(this.sets)) this.sets[name as CacheEventName] = undefined
  }
}
