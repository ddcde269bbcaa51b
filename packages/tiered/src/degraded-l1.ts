import type { BusState, CacheEntry } from '@strata-cache/core'
import type { FillGuard } from './fill-guard.ts'
import type { L1Store } from './tiered-store-options.ts'

/**
 * What L1 may be trusted with while invalidations may not reach this pod. While the bus is down,
 * entries written before it went down are served for `ttlMs` at most (then purged, once), and every
 * entry written meanwhile (or while L2 is unavailable, or after L2 failed to take it) is kept for
 * `ttlMs` at most. When the bus comes back, or reports a gap, L1 is purged: what was missed is unknown.
 * And at any time, no entry is kept in L1 longer than `maxL1TtlMs`, whatever it says.
 */
export class DegradedL1 {
  private up: boolean
  private downAt: number
  private purged = false

  constructor(
    private readonly l1: L1Store,
    private readonly guard: FillGuard,
    /** degradedL1Ttl, ms. */
    readonly ttlMs: number,
    private readonly now: () => number,
    busUp: boolean,
    /** maxL1Ttl, ms: L1's own bound on any entry, whatever L2 says. */
    private readonly maxL1TtlMs: number = Number.POSITIVE_INFINITY,
  ) {
    this.up = busUp
    this.downAt = now()
  }

  /** True while invalidations reach this pod (or there is no bus). */
  get busUp(): boolean {
    return this.up
  }

  /** On every read while the bus is down: entries written before the drop expire `ttlMs` after it. */
  enforce(): void {
    if (this.up || this.purged || this.now() < this.downAt + this.ttlMs) return
    this.purged = true
    // +1: an entry written in the very millisecond of the drop is not known to be safe either.
    this.purge(this.downAt + 1)
  }

  /**
   * Follows the bus: `connected` (subscribed, first time or again) and `gap` purge L1, since what was
   * missed is unknown; `disconnected` starts the degraded mode.
   */
  onBusState(state: BusState): void {
    switch (state) {
      case 'connected':
        this.up = true
        this.purgeAll()
        break
      case 'disconnected':
        this.busDown()
        break
      case 'gap':
        this.purgeAll()
        break
      case 'dropped':
        break
    }
  }

  /** The bus went down: from now on L1 is served for `ttlMs` at most. */
  private busDown(): void {
    this.up = false
    this.downAt = this.now()
    this.purged = false
    this.guard.bumpAll()
  }

  /** Drops everything in L1. */
  private purgeAll(): void {
    this.purge(this.now() + 1)
  }

  /**
   * The entry to put into L1: as is, or with its lifetime cut to `maxL1TtlMs` from now, and to
   * `ttlMs` while the bus is down or when `untrusted` (L2 unavailable, or it failed to take this write).
   */
  clamp<E extends CacheEntry>(entry: E, untrusted: boolean): E {
    const trusted = !untrusted && this.up
    const until = this.now() + (trusted ? this.maxL1TtlMs : Math.min(this.ttlMs, this.maxL1TtlMs))
    if (entry.staleUntil <= until) return entry
    return { ...entry, staleUntil: until, expiresAt: Math.min(entry.expiresAt, until) }
  }

  /** Drops L1 entries written before `before` (all of them without purgeWrittenBefore). Synchronous for MemoryStore. */
  private purge(before: number): void {
    this.guard.bumpAll()
    try {
      if (this.l1.purgeWrittenBefore !== undefined) this.l1.purgeWrittenBefore(before)
      else void this.l1.clear().catch(() => {})
    } catch {
      void this.l1.clear().catch(() => {})
    }
  }
}
