import type { Invalidation } from './invalidation.ts'

/** A bus as its peers in this process see it. */
export interface LocalPeer {
  readonly instanceId: string
  /** Takes an invalidation another bus of this process published. */
  receive(invalidation: Invalidation, from: string): void
}

/** Buses in this process by scope (Redis server and channel). */
const registry = new Map<string, Set<LocalPeer>>()

/**
 * One bus's membership in the in-process peer registry. A publish reaches the other buses of this
 * process on the same server and channel synchronously, so two stores in one process see each
 * other's invalidations before the call returns; their copy from Redis is then ignored.
 */
export class LocalPeers {
  private joined = true
  /** The scope's set in the registry: it stays there as long as this member does (looked up once, not per message). */
  private readonly group: Set<LocalPeer>

  constructor(
    private readonly scope: string,
    private readonly self: LocalPeer,
  ) {
    let peers = registry.get(scope)
    if (peers === undefined) {
      peers = new Set()
      registry.set(scope, peers)
    }
    peers.add(self)
    this.group = peers
  }

  /** Hands `invalidation` to every other bus of this scope. */
  deliver(invalidation: Invalidation): void {
    const peers = this.peers()
    if (peers === undefined) return
    for (const peer of peers) if (peer !== this.self) peer.receive(invalidation, this.self.instanceId)
  }

  /** True when `instanceId` is another bus of this scope (its messages came directly already). */
  has(instanceId: string): boolean {
    const peers = this.peers()
    if (peers === undefined) return false
    for (const peer of peers) if (peer !== this.self && peer.instanceId === instanceId) return true
    return false
  }

  /** Leaves the registry; idempotent. */
  leave(): void {
    if (!this.joined) return
    this.joined = false
    this.group.delete(this.self)
    if (this.group.size === 0) registry.delete(this.scope)
  }

  /** The scope's buses when there is another one besides this, else undefined. */
  private peers(): Set<LocalPeer> | undefined {
    return this.joined && this.group.size > 1 ? this.group : undefined
  }
}
