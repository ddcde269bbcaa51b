import type { CacheEntry } from '@strata-cache/core'
import type { FillGuard, FillTicket } from './fill-guard.ts'
import { hashKey, type L1Admission, type SeenTwice } from './l1-admission.ts'
import type { L2Repairs } from './l2-repairs.ts'
import type { L1Store, L2Store } from './tiered-store-options.ts'
import type { TieredWrites } from './tiered-writes.ts'

/** What the read paths share with their TieredStore. */
export interface TieredReadsContext {
  readonly l1: L1Store
  readonly l2: L2Store
  readonly guard: FillGuard
  readonly repairs: L2Repairs
  readonly writes: TieredWrites
  readonly admission: L1Admission
  /** The admission when it is `seen-twice`: reads that it would not admit skip the ticket. */
  readonly doorkeeper: SeenTwice | undefined
  now(): number
}

/**
 * The tiered store's reads: L1, then L2, filling L1 with what L2 returned when admission lets the
 * key in and no invalidation or write of it overlapped the read (FillGuard's ticket). A key L1
 * would not take anyway is read without a ticket when nothing of this pod's is pending for it: the
 * value goes back to the caller as L2 decoded it, and L1 is left alone.
 */
export class TieredReads {
  constructor(private readonly ctx: TieredReadsContext) {}

  /** See TieredStore.get. Not async: a read L1 answers, or that L1 will not take, costs no promise of its own. */
  get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    const { l1 } = this.ctx
    if (l1.peek === undefined) return this.getAfter<T>(key, l1.get<T>(key))
    const local = l1.peek<T>(key)
    if (local !== undefined && this.ctx.now() < local.expiresAt) return Promise.resolve(local)
    const doorkeeper = this.ctx.doorkeeper
    if (local === undefined && doorkeeper !== undefined) {
      const hash = hashKey(key)
      if (!doorkeeper.knows(hash) && this.nothingPending(key)) return this.getUnadmitted<T>(key, hash)
    }
    return this.getFilling<T>(key, local)
  }

  /** `get` on an L1 without `peek`. */
  private async getAfter<T>(
    key: string,
    reading: Promise<CacheEntry<T> | undefined>,
  ): Promise<CacheEntry<T> | undefined> {
    const local = await reading
    if (local !== undefined && this.ctx.now() < local.expiresAt) return local
    return this.getFilling(key, local)
  }

  /** An L2 read under a ticket: its value fills L1 when admitted and nothing overlapped the read. */
  private async getFilling<T>(
    key: string,
    local: CacheEntry<T> | undefined,
  ): Promise<CacheEntry<T> | undefined> {
    const { l2, guard } = this.ctx
    const ticket = guard.begin(key, false)
    let entry: CacheEntry<T> | undefined
    try {
      entry = await l2.get<T>(key)
    } finally {
      guard.end(ticket, false)
    }
    // L2 missed or is down: an L1 entry within grace is still better than nothing.
    if (entry === undefined) return local
    // A key L1 holds (within grace) is refreshed whatever admission says.
    if (local === undefined && !this.ctx.admission.admit(key)) return this.unfilled(key, ticket, entry)
    if (guard.mayFill(ticket) && !this.ctx.writes.pendingRemoval(key, entry)) {
      await this.ctx.writes.writeL1(key, entry)
      return entry
    }
    return this.ctx.writes.ownWriteOr(key, ticket, entry)
  }

  /** See TieredStore.getMany. */
  async getMany<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]> {
    const { l1, l2, guard } = this.ctx
    const now = this.ctx.now()
    const results: (CacheEntry<T> | undefined)[] = new Array(keys.length)
    const locals: (CacheEntry<T> | undefined)[] = new Array(keys.length)
    const missing: number[] = []
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      const local = l1.peek !== undefined ? l1.peek<T>(key) : await l1.get<T>(key)
      if (local !== undefined && now < local.expiresAt) results[i] = local
      else {
        locals[i] = local
        missing.push(i)
      }
    }
    if (missing.length === 0) return results
    const missingKeys = missing.map((i) => keys[i]!)
    const tickets = missingKeys.map((key) => guard.begin(key, false))
    let entries: (CacheEntry<T> | undefined)[]
    try {
      entries =
        l2.getMany !== undefined
          ? await l2.getMany<T>(missingKeys)
          : await Promise.all(missingKeys.map((key) => l2.get<T>(key)))
    } finally {
      for (const ticket of tickets) guard.end(ticket, false)
    }
    for (let j = 0; j < missing.length; j++) {
      const i = missing[j]!
      const entry = entries[j]
      if (entry === undefined) {
        results[i] = locals[i]
        continue
      }
      const key = missingKeys[j]!
      const ticket = tickets[j]!
      if (locals[i] === undefined && !this.ctx.admission.admit(key))
        results[i] = this.unfilled(key, ticket, entry)
      else if (guard.mayFill(ticket) && !this.ctx.writes.pendingRemoval(key, entry)) {
        await this.ctx.writes.writeL1(key, entry)
        results[i] = entry
      } else results[i] = this.ctx.writes.ownWriteOr(key, ticket, entry)
    }
    return results
  }

  /**
   * No removal is pending on L2 and no write of `key` by this pod is in flight: whatever this read
   * returns, nothing of ours that finished before it started is newer.
   */
  private nothingPending(key: string): boolean {
    return this.ctx.repairs.size === 0 && !this.ctx.guard.writing(key)
  }

  /** An L2 read L1 will not take: no ticket, and a hit is recorded as one sighting of the key. */
  private async getUnadmitted<T>(key: string, hash: number): Promise<CacheEntry<T> | undefined> {
    const entry = await this.ctx.l2.get<T>(key)
    if (entry !== undefined) this.ctx.doorkeeper!.record(hash)
    return entry
  }

  /** A value admission kept out of L1: as read, unless a change of this pod's overlapped the read. */
  private unfilled<T>(key: string, ticket: FillTicket, entry: CacheEntry<T>): CacheEntry<T> | undefined {
    if (this.ctx.guard.mayFill(ticket) && !this.ctx.writes.pendingRemoval(key, entry)) return entry
    return this.ctx.writes.ownWriteOr(key, ticket, entry)
  }
}
