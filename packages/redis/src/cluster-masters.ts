import { CacheError, CacheErrorCode } from '@strata-cache/core'
import type { Cluster, Redis } from 'ioredis'
import type { Bound } from './key-commands.ts'
import { CLUSTER_SLOTS } from './slot-keys.ts'

/**
 * The masters that own the cluster's slots now: the slot map is asked for again first (a failover
 * moves slots to a promoted replica that the client may not know of yet), then each slot's owner is
 * looked up among the client's node connections. Rejects with E_STORE_UNAVAILABLE when a slot has
 * no owner the client can reach, so a whole-keyspace command (SCAN) never leaves a shard out in
 * silence.
 */
export async function slotOwners(cluster: Cluster, bound: Bound): Promise<Redis[]> {
  await bound(
    new Promise<void>((resolve, reject) =>
      cluster.refreshSlotsCache((error) => (error ? reject(error) : resolve())),
    ),
  )
  const byKey = new Map<string, Redis>()
  for (const node of cluster.nodes('all')) byKey.set(`${node.options.host}:${node.options.port}`, node)
  const owners = new Map<string, Redis>()
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const key = cluster.slots[slot]?.[0]
    const node = key === undefined ? undefined : byKey.get(key)
    if (node === undefined) {
      throw new CacheError(
        CacheErrorCode.STORE_UNAVAILABLE,
        `cluster slot ${slot} has no reachable master (${key ?? 'unassigned'}): every master must be scanned`,
      )
    }
    owners.set(key!, node)
  }
  return [...owners.values()]
}
