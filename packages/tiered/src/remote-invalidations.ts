import type { StoreEvent } from '@strata-cache/core'
import type { DegradedL1 } from './degraded-l1.ts'
import type { FillGuard } from './fill-guard.ts'
import type { BusEvent, Invalidation } from './invalidation.ts'
import type { L1Store } from './tiered-store-options.ts'

/** What the bus's events act on. */
export interface RemoteTarget {
  readonly l1: L1Store
  readonly guard: FillGuard
  readonly degraded: DegradedL1
  /** Reports `invalidate` and `bus` events, and an `error` event when L1 fails to apply one. */
  emit(event: StoreEvent): void
}

/**
 * A TieredStore's side of the bus: applies what other pods announce to L1 and the fill guard, lets
 * the degraded mode follow the bus's state, wakes the waiters of an announced key (the lock's), and
 * reports each as a store event.
 */
export class RemoteInvalidations {
  private readonly notices = new Map<string, Set<() => void>>()

  constructor(private readonly target: RemoteTarget) {}

  /** One event from the bus: an invalidation from another pod, or a change of the bus's state. */
  handle(event: BusEvent): void {
    if (event.type === 'invalidation') {
      this.apply(event.invalidation)
      return
    }
    this.target.degraded.onBusState(event.state)
    this.target.emit({
      type: 'bus',
      state: event.state,
      ...(event.reason === undefined ? {} : { reason: event.reason }),
      ...(event.dropped === undefined ? {} : { dropped: event.dropped }),
    })
  }

  /** Runs `callback` whenever an invalidation of `key` arrives from the bus; returns the unregister function. */
  onKeyNotice(key: string, callback: () => void): () => void {
    let callbacks = this.notices.get(key)
    if (callbacks === undefined) {
      callbacks = new Set()
      this.notices.set(key, callbacks)
    }
    callbacks.add(callback)
    return () => {
      const current = this.notices.get(key)
      if (current === undefined) return
      current.delete(callback)
      if (current.size === 0) this.notices.delete(key)
    }
  }

  /**
   * Bumps the fill guard first and synchronously (a read in flight now must not fill L1 when it
   * lands), drops the entries from L1, wakes the key's waiters, and reports one `invalidate` event
   * with source `bus`.
   */
  private apply(invalidation: Invalidation): void {
    const { l1, guard } = this.target
    const failed = this.failed
    let event: StoreEvent
    switch (invalidation.kind) {
      case 'key':
        for (const key of invalidation.keys) {
          guard.bumpKey(key)
          void l1.delete(key).catch(failed)
          this.notify(key)
        }
        event = { type: 'invalidate', kind: 'key', source: 'bus', keys: invalidation.keys }
        break
      case 'pattern':
        guard.bumpMatching(invalidation.pattern)
        void l1.deletePattern(invalidation.pattern).catch(failed)
        event = { type: 'invalidate', kind: 'pattern', source: 'bus', pattern: invalidation.pattern }
        break
      case 'tags':
        guard.bumpAll()
        void l1.deleteTags(invalidation.tags).catch(failed)
        event = { type: 'invalidate', kind: 'tags', source: 'bus', tags: invalidation.tags }
        break
      case 'clear':
        guard.bumpAll()
        void l1.clear().catch(failed)
        event = { type: 'invalidate', kind: 'clear', source: 'bus' }
        break
    }
    this.target.emit(event)
  }

  /** Reports L1 failing to apply an invalidation (one function for every message, not one each). */
  private readonly failed = (error: unknown): void =>
    this.target.emit({ type: 'error', operation: 'invalidate', tier: this.target.l1.name, error })

  private notify(key: string): void {
    const callbacks = this.notices.get(key)
    if (callbacks !== undefined) for (const callback of [...callbacks]) callback()
  }
}
