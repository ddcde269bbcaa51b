import type { CacheEntry, CacheStore, LoadToken, LockLease, StoreEvent } from '@strata-cache/core'
import type { PreparedWrite, WriteOutcome } from '@strata-cache/redis'
import { decodedValue } from '@strata-cache/redis/internal'
import type { DegradedL1 } from './degraded-l1.ts'
import type { FillGuard, FillTicket } from './fill-guard.ts'
import type { Invalidation, InvalidationBus } from './invalidation.ts'
import { hashKey, type SeenTwice } from './l1-admission.ts'
import type { L2Repairs } from './l2-repairs.ts'
import type { RepairReplay } from './repair-replay.ts'
import type { FencedL2, L1Store, L2Store } from './tiered-store-options.ts'

/** What the write paths share with their TieredStore. */
export interface TieredWritesContext {
  readonly l1: L1Store
  readonly l2: L2Store
  /** L2 with fenced writes (a RedisStore): outcomes are known, failures are replayed. */
  readonly fenced: FencedL2 | undefined
  /** The bus, when a write's invalidation rides on L2's connection behind it. */
  readonly followingBus: Required<Pick<InvalidationBus, 'followWrite'>> | undefined
  readonly guard: FillGuard
  readonly repairs: L2Repairs
  readonly replay: RepairReplay
  readonly degraded: DegradedL1
  /** With `l1LoadAdmission: 'seen-twice'`: a loader's result enters L1 only for a key it has seen. */
  readonly loadDoorkeeper?: SeenTwice
  now(): number
  l2Available(): boolean
  publish(invalidation: Invalidation): Promise<void>
  emit(event: StoreEvent): void
}

/**
 * The tiered store's writes and removals: L1 first (a pod reads its own writes at once), then L2,
 * then the notice to the other pods — after L2 confirmed, or, when L2 could not apply it, after the
 * replay of its repair reached L2 (see L2Repairs). Reads ask it whether a value L2 returned may be
 * one a pending removal takes away.
 */
export class TieredWrites {
  constructor(private readonly ctx: TieredWritesContext) {}

  /**
   * L1 first (this pod reads its own write while it travels), then L2, then the other pods are told
   * (in L2's round trip with `publishOnL2Connection`). A write L2 could not take leaves L1's copy for
   * degradedL1Ttl at most, and a delete of the key queued for L2, applied (then announced) once it
   * answers: no older value survives in L2.
   */
  async set<T>(key: string, entry: CacheEntry<T>): Promise<void> {
    if (this.ctx.fenced === undefined) return this.setUnfenced(key, entry)
    // Bad input (unserializable, too large) throws here, before L1 changes or any I/O: nothing is lost.
    const prepared = this.ctx.fenced.prepare(key, entry)
    const invalidation: Invalidation = { kind: 'key', keys: [key] }
    const notice = this.ctx.followingBus?.followWrite(invalidation)
    const ticket = this.ctx.guard.begin(key, true)
    const copy = this.l1Copy(prepared, entry)
    // L2 not ready yet (a store just created): L1's copy starts with the degraded TTL, and is
    // written again with its own once L2 took the write.
    const l2Trusted = this.ctx.l2Available()
    let written = false
    try {
      await this.writeL1(key, copy.entry, false, copy.text)
      const outcome = await this.ctx.fenced.write(
        prepared,
        notice === undefined ? {} : { followUp: notice.followUp },
      )
      written = outcome === 'written'
      await this.settleL1(key, copy.entry, ticket, written, !l2Trusted, copy.text)
    } finally {
      this.ctx.guard.end(ticket, true)
    }
    if (written) {
      this.ctx.repairs.settled(key)
      if (notice === undefined) await this.ctx.publish(invalidation)
      else await notice.settled(true)
    } else {
      // Tell the others now too (a slow reply often did apply), and again after the repair landed.
      this.queueRepair(invalidation)
      if (notice === undefined) await this.ctx.publish(invalidation)
      else await notice.settled(false)
    }
  }

  /**
   * A loader's result: written to L2 unless the key, its tags, a matching pattern or the prefix
   * changed since `startLoad` (another pod's write or invalidation: its data is newer), or the lock
   * lease was lost (checked in the same script). Dropped results leave L1 without the key.
   */
  async setLoaded<T>(
    key: string,
    entry: CacheEntry<T>,
    token: LoadToken,
    lease?: LockLease,
  ): Promise<boolean> {
    if (this.ctx.fenced === undefined || typeof token !== 'number') {
      if (lease !== undefined && !(await lease.isValid())) return false
      await this.set(key, entry)
      return true
    }
    const prepared = this.ctx.fenced.prepare(key, entry)
    const invalidation: Invalidation = { kind: 'key', keys: [key] }
    const notice = this.ctx.followingBus?.followWrite(invalidation)
    const ticket = this.ctx.guard.begin(key, true)
    let outcome: string
    try {
      outcome = await this.ctx.fenced.write(prepared, {
        fillSince: token,
        ...(lease?.fence === undefined ? {} : { lease: lease.fence }),
        ...(notice === undefined ? {} : { followUp: notice.followUp }),
      })
      // A failed fill changed nothing anyone relies on: L1 keeps it for degradedL1Ttl at most.
      if (outcome === 'failed' || (outcome === 'written' && this.admitsLoad(key)))
        await this.settleWritten(key, prepared, entry, ticket, outcome === 'written')
      else await this.ctx.l1.delete(key).catch(() => false)
    } finally {
      this.ctx.guard.end(ticket, true)
    }
    if (notice !== undefined) await notice.settled(outcome !== 'failed')
    else if (outcome === 'written') await this.ctx.publish(invalidation)
    return outcome === 'written' || outcome === 'failed'
  }

  /** See TieredStore.setLoadedMany: {@link setLoaded} for a batch, one pipelined L2 batch and one bus message. */
  async setLoadedMany<T>(entries: readonly [string, CacheEntry<T>, LoadToken][]): Promise<boolean[]> {
    const fenced = this.ctx.fenced
    if (fenced === undefined) {
      await this.setMany(entries.map(([key, entry]) => [key, entry]))
      return entries.map(() => true)
    }
    // Bad input throws here, before L1 changes or any I/O.
    const prepared = entries.map(([key, entry]) => fenced.prepare(key, entry))
    const tickets = entries.map(([key]) => this.ctx.guard.begin(key, true))
    let outcomes: WriteOutcome[]
    try {
      // Issued in one tick: the connection sends them as one pipelined batch.
      outcomes = await Promise.all(
        prepared.map((p, j) => {
          const token = entries[j]![2]
          return fenced.write(p, typeof token === 'number' ? { fillSince: token } : {})
        }),
      )
      for (let j = 0; j < entries.length; j++) {
        const [key, entry] = entries[j]!
        const outcome = outcomes[j]!
        // A failed fill changed nothing anyone relies on: L1 keeps it for degradedL1Ttl at most.
        if (outcome === 'failed' || (outcome === 'written' && this.admitsLoad(key)))
          await this.settleWritten(key, prepared[j]!, entry, tickets[j]!, outcome === 'written')
        else await this.ctx.l1.delete(key).catch(() => false)
      }
    } finally {
      for (const ticket of tickets) this.ctx.guard.end(ticket, true)
    }
    const written = [...new Set(entries.filter((_, j) => outcomes[j] === 'written').map(([key]) => key))]
    if (written.length > 0) await this.ctx.publish({ kind: 'key', keys: written })
    return outcomes.map((outcome) => outcome === 'written' || outcome === 'failed')
  }

  /** One batched L2 write (`setMany` where L2 has it; nothing is written if any value is refused), then L1, then one bus message. */
  async setMany<T>(entries: readonly [string, CacheEntry<T>][]): Promise<void> {
    const fenced = this.ctx.fenced
    const prepared =
      fenced === undefined ? undefined : entries.map(([key, entry]) => fenced.prepare(key, entry))
    const tickets = entries.map(([key]) => this.ctx.guard.begin(key, true))
    const failed = new Set<string>()
    try {
      if (fenced !== undefined) {
        const outcomes = await Promise.all(prepared!.map((p) => fenced.write(p)))
        for (const [j, outcome] of outcomes.entries()) if (outcome !== 'written') failed.add(entries[j]![0])
      } else if (this.ctx.l2.setMany !== undefined) await this.ctx.l2.setMany(entries)
      else for (const [key, entry] of entries) await this.ctx.l2.set(key, entry)
      for (let j = 0; j < entries.length; j++) {
        const [key, entry] = entries[j]!
        const ticket = tickets[j]!
        const written = fenced === undefined ? !this.ctx.guard.l2WriteFailed(ticket) : !failed.has(key)
        if (prepared === undefined) await this.settleL1(key, entry, ticket, written, true)
        else await this.settleWritten(key, prepared[j]!, entry, ticket, written)
      }
    } finally {
      for (const ticket of tickets) this.ctx.guard.end(ticket, true)
    }
    const keys = [...new Set(entries.map(([key]) => key))]
    const written = keys.filter((key) => !failed.has(key))
    for (const key of written) this.ctx.repairs.settled(key)
    if (failed.size > 0) this.queueRepair({ kind: 'key', keys: [...failed] })
    await this.ctx.publish({ kind: 'key', keys })
  }

  /** Removes `keys` from both tiers (one round trip each where they can) with one notice; see {@link removeFromBoth}. */
  deleteMany(keys: readonly string[]): Promise<number> {
    const count = (store: CacheStore) =>
      store.deleteMany !== undefined
        ? store.deleteMany(keys)
        : Promise.all(keys.map((key) => store.delete(key))).then((all) => all.filter(Boolean).length)
    return this.removeFromBoth(
      { kind: 'key', keys },
      () => count(this.ctx.l2),
      () => count(this.ctx.l1),
    )
  }

  /**
   * A delete, pattern, tags or clear: L1 first (this pod reads its own removal at once), then L2,
   * fenced so that no read in flight fills L1 across it, then the notice to the other pods. With a
   * fenced L2, the removal is registered as pending until L2 confirms it (reads it covers miss); one
   * L2 could not apply stays queued and is announced twice: now (a slow reply often did apply) and
   * again once its replay reached L2, so no pod keeps an old value it re-read in between. The result
   * is L2's count, or L1's while L2 is unavailable.
   */
  async removeFromBoth<N>(
    invalidation: Invalidation,
    fromL2: () => Promise<N>,
    fromL1: () => Promise<N>,
    notify = true,
  ): Promise<N> {
    const unfence = this.ctx.guard.fence(invalidation)
    const pending = this.ctx.fenced === undefined ? undefined : this.ctx.repairs.add(invalidation)
    let result: N
    let applied = true
    try {
      const available = this.ctx.l2Available()
      const l1Result = await fromL1()
      let l2Result: N
      if (this.ctx.fenced !== undefined) {
        const outcome = await this.ctx.fenced.invalidate(invalidation)
        applied = outcome.applied
        l2Result = (typeof l1Result === 'number' ? outcome.removed : outcome.removed > 0) as N
      } else l2Result = await fromL2()
      result = available && applied ? l2Result : l1Result
    } finally {
      unfence()
    }
    if (pending !== undefined) {
      if (applied) this.ctx.repairs.applied(pending.handle)
      else this.ctx.replay.failed(pending.collapsed)
    }
    // Even when L2 did not confirm it: a slow reply often did apply, and the other pods should drop
    // their copies now. One that re-reads L2 before the repair lands is told again after it.
    if (notify) await this.ctx.publish(invalidation)
    return result
  }

  /** `set` on an L2 without fenced writes: L2, then L1, then the notice (failures seen through L2's error events). */
  private async setUnfenced<T>(key: string, entry: CacheEntry<T>): Promise<void> {
    const invalidation: Invalidation = { kind: 'key', keys: [key] }
    const notice = this.ctx.followingBus?.followWrite(invalidation)
    const ticket = this.ctx.guard.begin(key, true)
    let published = false
    try {
      if (notice !== undefined) published = await this.ctx.l2.setFollowedBy!(key, entry, notice.followUp)
      else await this.ctx.l2.set(key, entry)
      await this.settleL1(key, entry, ticket, !this.ctx.guard.l2WriteFailed(ticket), true)
    } finally {
      this.ctx.guard.end(ticket, true)
    }
    // Not published with the write (Redis is sick): the bus queues it; no second wait on that server.
    if (notice === undefined) await this.ctx.publish(invalidation)
    else await notice.settled(published)
  }

  /** After an L2 write: L1 keeps the value unless another change overlapped (then who won is unknown). */
  private async settleL1(
    key: string,
    entry: CacheEntry,
    ticket: FillTicket,
    written: boolean,
    l1Pending = false,
    text?: string,
  ): Promise<void> {
    if (!this.ctx.guard.isCurrent(ticket)) await this.ctx.l1.delete(key).catch(() => false)
    // Not in L2: L1's copy is the only one, kept no longer than degradedL1Ttl.
    else if (!written || l1Pending) await this.writeL1(key, entry, !written, text)
  }

  /**
   * Whether a loader's result L2 took enters L1 (option `l1LoadAdmission`): always, or once the
   * doorkeeper has seen the key (this sighting is recorded, so the key's next read from L2 fills L1).
   * Left out, the result lives in L2 only, and any older copy L1 held (this pod's own earlier `set`,
   * which the doorkeeper does not see) is removed with it.
   */
  private admitsLoad(key: string): boolean {
    const doorkeeper = this.ctx.loadDoorkeeper
    return doorkeeper === undefined || doorkeeper.record(hashKey(key))
  }

  /** {@link settleL1} for a prepared write whose L1 copy is not written yet (a loader's result, a batch). */
  private settleWritten(
    key: string,
    prepared: PreparedWrite,
    entry: CacheEntry,
    ticket: FillTicket,
    written: boolean,
  ): Promise<void> {
    const copy = this.l1Copy(prepared, entry)
    return this.settleL1(key, copy.entry, ticket, written, true, copy.text)
  }

  /**
   * What L1 keeps of a write, best first: the value's text as sent to L2 (`text`, with the entry for
   * its timing and tags), parsed only if L1 is asked for it (a written key is often never read again
   * in this pod: no parse, no object graph for the GC); else the value decoded back from that text
   * (one parse, in place of L1 serializing and parsing it again); else the entry itself.
   */
  private l1Copy(prepared: PreparedWrite, entry: CacheEntry): { entry: CacheEntry; text?: string } {
    const format = this.ctx.l1.fillText === undefined ? undefined : this.ctx.l1.serializer?.name
    const text = format === undefined ? undefined : this.ctx.fenced?.valueTextOf?.(prepared, format)
    if (text !== undefined) return { entry, text }
    return { entry: this.ctx.fenced?.copyOf?.(prepared) ?? entry }
  }

  /** A set L2 could not take: a delete of its key queued for L2, announced after it lands. */
  private queueRepair(invalidation: Invalidation): void {
    const { collapsed } = this.ctx.repairs.add(invalidation)
    this.ctx.replay.failed(collapsed)
  }

  /** An L2 value that a removal not yet confirmed by L2 (in flight, or waiting for replay) may remove. */
  pendingRemoval(key: string, entry: CacheEntry): boolean {
    return this.ctx.repairs.size > 0 && this.ctx.repairs.covers(key, entry.tags)
  }

  /**
   * What a read that may not fill L1 returns: this pod's own newer write when L1 holds it, a miss
   * while this pod's write or removal of the key is in flight, or the value L2 returned.
   */
  ownWriteOr<T>(key: string, ticket: FillTicket, entry: CacheEntry<T>): CacheEntry<T> | undefined {
    const own = this.ctx.l1.peek?.<T>(key)
    if (own !== undefined && this.ctx.now() < own.expiresAt) return own
    if (ticket.activity.writers > 0 || this.pendingRemoval(key, entry)) return undefined
    return entry
  }

  /**
   * Writes into L1, with the TTL clamped to degradedL1Ttl while invalidations may not reach us. An
   * entry L2 just decoded for this read (it says how many bytes of JSON it came from) is handed to
   * L1's `fill`, which freezes its value in place instead of serializing and parsing a copy; with
   * `text` (the value as L1's serializer writes it) L1's `fillText` keeps it to parse on first read.
   */
  async writeL1(key: string, entry: CacheEntry, l2Failed = false, text?: string): Promise<void> {
    // Read before the spread below, which does not copy the (private) mark. A value decoded in
    // another format than L1 copies with could hold what L1 refuses: it goes through `set`.
    const decoded = text !== undefined || this.ctx.l1.fill === undefined ? undefined : decodedValue(entry)
    const ownedBytes =
      decoded !== undefined && decoded.format === (this.ctx.l1.serializer?.name ?? 'json')
        ? decoded.bytes
        : undefined
    const { tier: _, ...copy } = entry
    const held = this.ctx.degraded.clamp(copy, l2Failed || !this.ctx.l2Available())
    try {
      if (text !== undefined) await this.ctx.l1.fillText!(key, held, text)
      else if (ownedBytes !== undefined) await this.ctx.l1.fill!(key, held, ownedBytes)
      else await this.ctx.l1.set(key, held)
    } catch (error) {
      // L1 refused it (e.g. over its maxBytes): never keep the previous copy in its place.
      await this.ctx.l1.delete(key).catch(() => false)
      this.ctx.emit({ type: 'error', operation: 'set', tier: this.ctx.l1.name, error, key })
    }
  }
}
