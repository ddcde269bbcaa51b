import type { BusState } from '@strata-cache/core'
import type { WriteFollowUp } from '@strata-cache/redis'

/** What one pod tells the others to drop from their L1. Never carries values. */
export type Invalidation =
  | { readonly kind: 'key'; readonly keys: readonly string[] }
  | { readonly kind: 'pattern'; readonly pattern: string }
  | { readonly kind: 'tags'; readonly tags: readonly string[] }
  | { readonly kind: 'clear' }

/** What a bus reports to its listeners: an invalidation from another pod, or a change of state. */
export type BusEvent =
  | {
      readonly type: 'invalidation'
      readonly invalidation: Invalidation
      readonly from: string
      readonly seq: number
    }
  | { readonly type: 'state'; readonly state: BusState; readonly reason?: string; readonly dropped?: number }

/** Receives a bus's events. */
export type BusListener = (event: BusEvent) => void

/** Counters a bus keeps; the metrics package reads exactly these names from the `bus` tier's details. */
export interface BusCounters {
  /** Messages this pod published. */
  sent: number
  /** Valid messages received from other pods. */
  received: number
  /** Malformed or foreign-version messages ignored. */
  dropped: number
  /** Messages refused for a missing or wrong signature (only with a `secret`; see RedisBusOptions). */
  rejected: number
  /** Gaps seen in another pod's sequence numbers (each one purges L1). */
  gaps: number
  /** Times the subscriber connection came back after a drop (each one purges L1). */
  reconnects: number
}

/**
 * A write's invalidation, sent by the store on the connection that carried the write, right behind
 * it (see InvalidationBus.followWrite and RedisStore.setFollowedBy).
 */
export interface WriteNotice {
  /** Issues the PUBLISH on the write's connection, as the next message of that connection's stream; call once. */
  readonly followUp: WriteFollowUp
  /**
   * After the write: acknowledged (true); not sent or failed (false: the bus queues it for its
   * retry); or `'deferred'`: the write did not reach L2 and the store publishes the invalidation
   * itself once L2 holds its repair, so the bus forgets it.
   */
  settled(published: boolean | 'deferred'): Promise<void>
}

/**
 * Carries invalidations between pods. TieredStore needs only this: RedisBus implements it over Redis
 * pub/sub, MemoryBus within one process, and another transport can provide its own.
 */
export interface InvalidationBus {
  /** This process's id on the bus; its own messages are ignored when they come back. */
  readonly instanceId: string
  /** Sends (or queues, when the bus is down) an invalidation. Never rejects. */
  publish(invalidation: Invalidation): Promise<void>
  /** Optional: lets the store send a write's invalidation on its own connection, in the write's round trip. */
  followWrite?(invalidation: Invalidation): WriteNotice
  /** Adds a listener of invalidations and state changes; returns the function that removes it. */
  subscribe(listener: BusListener): () => void
  /** True while the subscriber connection is up and subscribed: invalidations reach this pod. */
  isConnected(): boolean
  /** Resolves true once connected, false when `timeoutMs` passes first. */
  ready(timeoutMs?: number): Promise<boolean>
  /** The counters, plus how many invalidations wait to be published. */
  counters(): BusCounters & { pending: number }
  /** Publishes what waits (best effort) and disconnects. Idempotent. */
  close(): Promise<void>
}
