import { globMatcher } from '@strata-cache/core/internal'
import type { Invalidation } from './invalidation.ts'

/** Reads and writes in flight for one key; `epoch` moves whenever the key is invalidated or written. */
interface KeyActivity {
  users: number
  writers: number
  epoch: number
  /** L2 reported a failed write of this key while a write was in flight. */
  l2WriteFailed?: boolean
}

/** What a read or write captured when it started, to tell at the end whether L1 may take its value. */
export interface FillTicket {
  readonly key: string
  readonly activity: KeyActivity
  readonly epoch: number
  readonly global: number
}

/**
 * Decides whether a value read from (or written to) L2 may go into L1. Every read and write of a
 * key takes a ticket (`begin`) and gives it back (`end`); an invalidation or write of the key moves
 * its epoch, and anything that touches many keys (pattern, tags, clear, a bus drop) moves the
 * global epoch. A ticket whose epochs did not move is current: nothing overlapped its L2 call.
 */
export class FillGuard {
  private readonly activity = new Map<string, KeyActivity>()
  /** Moves on anything that touches many keys: no fill across it. */
  private globalEpoch = 0

  /** Takes a ticket for `key`; a write moves the key's epoch now and again at `end`. */
  begin(key: string, writing: boolean): FillTicket {
    let activity = this.activity.get(key)
    if (activity === undefined) {
      activity = { users: 0, writers: 0, epoch: 0 }
      this.activity.set(key, activity)
    }
    activity.users++
    if (writing) {
      activity.writers++
      activity.epoch++
    }
    return { key, activity, epoch: activity.epoch, global: this.globalEpoch }
  }

  /** Gives the ticket back; the key's entry is forgotten once nobody uses it. */
  end(ticket: FillTicket, writing: boolean): void {
    const { activity } = ticket
    if (writing) {
      if (--activity.writers === 0) activity.l2WriteFailed = false
      // Reads that started while we wrote may hold the old value: they must not fill L1.
      activity.epoch++
    }
    if (--activity.users === 0 && this.activity.get(ticket.key) === activity) this.activity.delete(ticket.key)
  }

  /** No invalidation or write of the key, and nothing global, since the ticket was taken. */
  isCurrent(ticket: FillTicket): boolean {
    return ticket.activity.epoch === ticket.epoch && ticket.global === this.globalEpoch
  }

  /** A read may fill L1: its ticket is current and no write of the key is in flight. */
  mayFill(ticket: FillTicket): boolean {
    return this.isCurrent(ticket) && ticket.activity.writers === 0
  }

  /** A write or removal of `key` by this process is in flight (no ticket needed to ask). */
  writing(key: string): boolean {
    const activity = this.activity.get(key)
    return activity !== undefined && activity.writers > 0
  }

  /** L2 failed a write of the ticket's key while it was in flight: L1's copy is then the only one. */
  l2WriteFailed(ticket: FillTicket): boolean {
    return ticket.activity.l2WriteFailed === true
  }

  /**
   * L2 reported a failed write: of `key`, or (a batch names none) of any key being written. Marks the
   * writes in flight, so their L1 copy is kept no longer than the degraded TTL.
   */
  markL2WriteFailed(key: string | undefined): void {
    if (key !== undefined) {
      const activity = this.activity.get(key)
      if (activity !== undefined && activity.writers > 0) activity.l2WriteFailed = true
      return
    }
    for (const activity of this.activity.values()) if (activity.writers > 0) activity.l2WriteFailed = true
  }

  /** An invalidation of `key`: a read of it in flight must not fill L1. */
  bumpKey(key: string): void {
    const activity = this.activity.get(key)
    if (activity !== undefined) activity.epoch++
  }

  /** An invalidation of every key matching `pattern`. */
  bumpMatching(pattern: string): void {
    const matches = globMatcher(pattern)
    for (const [key, activity] of this.activity) if (matches(key)) activity.epoch++
  }

  /**
   * Fences reads against an invalidation this process applies to L2 and L1: moves the epochs it
   * covers now, and again when the returned function is called (after both tiers), so that a read
   * that overlapped any part of it does not fill L1.
   */
  fence(invalidation: Invalidation): () => void {
    switch (invalidation.kind) {
      case 'key': {
        const tickets = invalidation.keys.map((key) => this.begin(key, true))
        return () => {
          for (const ticket of tickets) this.end(ticket, true)
        }
      }
      case 'pattern': {
        this.bumpMatching(invalidation.pattern)
        return () => this.bumpMatching(invalidation.pattern)
      }
      case 'tags':
      case 'clear':
        this.bumpAll()
        return () => this.bumpAll()
    }
  }

  /** Something that may touch any key (tags, clear, a purge): no read in flight fills L1. */
  bumpAll(): void {
    this.globalEpoch++
  }
}
