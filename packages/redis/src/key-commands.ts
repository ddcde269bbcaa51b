import type { Cluster, Redis } from 'ioredis'
import { slotOwners } from './cluster-masters.ts'
import type { ConnectionPool } from './pool.ts'
import type { RedisClient } from './redis-store-options.ts'
import { groupBySlot } from './slot-keys.ts'

const SCAN_COUNT = 1000

/** Bounds one round trip (the command runner's deadline, for one operation). */
export type Bound = <T>(promise: Promise<T>) => Promise<T>

/**
 * Commands over many keys that work the same on a single node and on a Cluster, where one MGET or
 * UNLINK of many keys would cross slots: there the keys are grouped by slot, one MGET or UNLINK per
 * slot, all sent at once (ioredis pipelines them per node).
 */
export class KeyCommands {
  constructor(private readonly pool: ConnectionPool) {}

  /** True on a Cluster: a command or script cannot span keys of many slots. */
  get isCluster(): boolean {
    return this.pool.isCluster
  }

  /** The values of `fullKeys` (null where none): one MGET, or one MGET per slot on a cluster. */
  async getTexts(client: RedisClient, fullKeys: readonly string[]): Promise<(string | null)[]> {
    if (fullKeys.length === 0) return []
    if (this.pool.isCluster) return perSlot(fullKeys, (keys) => client.mget(...keys))
    return client.mget(...fullKeys)
  }

  /** The raw values of `fullKeys` (null where none): one MGET, or one MGET per slot on a cluster. */
  async getBuffers(client: RedisClient, fullKeys: readonly string[]): Promise<(Buffer | null)[]> {
    if (fullKeys.length === 0) return []
    if (this.pool.isCluster) return perSlot(fullKeys, (keys) => client.mgetBuffer(...keys))
    return client.mgetBuffer(...fullKeys)
  }

  /** UNLINKs `fullKeys`; resolves how many existed. */
  async unlinkMany(client: RedisClient, fullKeys: readonly string[]): Promise<number> {
    if (fullKeys.length === 0) return 0
    if (this.pool.isCluster) {
      const counts = await Promise.all(
        groupBySlot(fullKeys, (k) => k).map(({ items }) => client.unlink(...items)),
      )
      return counts.reduce((a, b) => a + b, 0)
    }
    return client.unlink(...fullKeys)
  }

  /**
   * SCAN every master for `match` and UNLINK what `doomed` accepts, batch by batch, each round trip
   * bounded. On a cluster the masters are the owners of all 16384 slots after a fresh look at the
   * slot map, so a replica promoted a moment ago is scanned too (and a slot without a reachable
   * owner fails the call: the caller applies it again later).
   */
  async scanAndUnlink(
    client: RedisClient,
    match: string,
    doomed: (fullKey: string) => boolean,
    bound: Bound,
  ): Promise<number> {
    const masters: Redis[] = this.pool.isCluster
      ? await slotOwners(client as Cluster, bound)
      : [client as Redis]
    const perNode = await Promise.all(
      masters.map(async (node) => {
        let removed = 0
        let cursor = '0'
        do {
          const [next, keys] = await bound(node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT))
          cursor = next
          const batch = keys.filter(doomed)
          if (batch.length > 0) removed += await bound(this.unlinkMany(client, batch))
        } while (cursor !== '0')
        return removed
      }),
    )
    return perNode.reduce((a, b) => a + b, 0)
  }
}

/** Runs `read` once per slot group of `fullKeys` (all at once) and puts the replies back in key order. */
async function perSlot<T>(fullKeys: readonly string[], read: (keys: string[]) => Promise<T[]>): Promise<T[]> {
  const groups = groupBySlot(fullKeys, (k) => k)
  const replies = await Promise.all(groups.map(({ items }) => read(items)))
  const out = new Array<T>(fullKeys.length)
  groups.forEach(({ indexes }, g) => {
    indexes.forEach((index, j) => {
      out[index] = replies[g]![j]!
    })
  })
  return out
}
