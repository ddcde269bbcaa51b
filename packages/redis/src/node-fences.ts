import type { Cluster } from 'ioredis'
import { CLUSTER_SLOTS, keySlot } from './slot-keys.ts'

/**
 * Where a Cluster keeps each master's own copy of the clear, pattern and tag fences: keys under a
 * hash tag that hashes to the lowest slot the master serves, so they live on that master (and move
 * with that slot: a promoted replica serves the same slots, and has the replicated fences).
 *
 *   <prefix>#fc{<tag>}        the node's clear fence
 *   <prefix>#fp{<tag>}        the node's pattern fences (a sorted set)
 *   <prefix>#ft:<t>{<tag>}    the node's fence of tag `t`
 */
export class NodeFences {
  private static readonly tags = new Map<number, string>()
  /** Per Cluster client: each master's (`host:port`) lowest slot, and whether the slot map changed since. */
  private readonly views = new WeakMap<Cluster, { lowest: Map<string, number>; dirty: boolean }>()

  constructor(private readonly fencePrefix: string) {}

  /** The hash tag (text between braces) of the fences of the master that serves `slot` now, as `cluster` sees it. */
  tagFor(cluster: Cluster, slot: number): string | undefined {
    const owner = cluster.slots[slot]?.[0]
    if (owner === undefined) return undefined
    const lowest = this.lowestSlots(cluster).get(owner)
    return lowest === undefined ? undefined : NodeFences.tagOfSlot(lowest)
  }

  /** The fence tag of every master, by its `host:port`. */
  tagsByMaster(cluster: Cluster): Map<string, string> {
    const out = new Map<string, string>()
    for (const [owner, slot] of this.lowestSlots(cluster)) out.set(owner, NodeFences.tagOfSlot(slot))
    return out
  }

  clearKey(tag: string): string {
    return `${this.fencePrefix}c{${tag}}`
  }

  patternKey(tag: string): string {
    return `${this.fencePrefix}p{${tag}}`
  }

  tagFenceKey(tag: string, cacheTag: string): string {
    return `${this.fencePrefix}t:${cacheTag}{${tag}}`
  }

  private lowestSlots(cluster: Cluster): Map<string, number> {
    let view = this.views.get(cluster)
    if (view === undefined) {
      const created = { lowest: new Map<string, number>(), dirty: true }
      // A full refresh of the slot map; a MOVED changes one slot in place, seen by the check below.
      cluster.on('refresh', () => {
        created.dirty = true
      })
      this.views.set(cluster, created)
      view = created
    }
    const moved = [...view.lowest].some(([owner, slot]) => cluster.slots[slot]?.[0] !== owner)
    if (view.dirty || moved || view.lowest.size === 0) {
      view.lowest = new Map()
      for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
        const owner = cluster.slots[slot]?.[0]
        if (owner !== undefined && !view.lowest.has(owner)) view.lowest.set(owner, slot)
      }
      view.dirty = false
    }
    return view.lowest
  }

  /** A short text whose CRC16 lands in `slot` (found once by counting, then kept). */
  private static tagOfSlot(slot: number): string {
    let tag = NodeFences.tags.get(slot)
    if (tag !== undefined) return tag
    for (let i = 0; ; i++) {
      if (keySlot(`{${i}}`) === slot) {
        tag = String(i)
        break
      }
    }
    NodeFences.tags.set(slot, tag)
    return tag
  }
}
