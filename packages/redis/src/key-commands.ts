import type { ConnectionPool } from './pool.ts'
import type { RedisClient } from './redis-store-options.ts'

const SCAN_COUNT = 1000

/** Bounds one round trip (the command runner's deadline, for one operation). */
export type Bound = <T>(promise: Promise<T>) => Promise<T>

/**
 * Commands over many keys that work the same on a single node and on a Cluster, where one MGET or
 * UNLINK of many keys would cross slots.
 */
export class KeyCommands {
  constructor(private readonly pool: ConnectionPool) {}

  /** True on a Cluster: a command or script cannot span keys of many slots. */
  get isCluster(): boolean {
    return this.pool.isCluster
  }

  /** The values of `fullKeys` (null where none): one MGET, or single GETs auto-pipelined per node on a cluster. */
  async getTexts(client: RedisClient, fullKeys: readonly string[]): Promise<(string | null)[]> {
    if (fullKeys.length === 0) return []
    if (this.pool.isCluster) return Promise.all(fullKeys.map((k) => client.get(k)))
    return client.mget(...fullKeys)
  }

  /** UNLINKs `fullKeys`; resolves how many existed. */
  async unlinkMany(client: RedisClient, fullKeys: readonly string[]): Promise<number> {
    if (fullKeys.length === 0) return 0
    if (this.pool.isCluster) {
      const counts = await Promise.all(fullKeys.map((k) => client.unlink(k)))
      return counts.reduce((a, b) => a + b, 0)
    }
    return client.unlink(...fullKeys)
  }

  /** SCAN every master for `match` and UNLINK what `doomed` accepts, batch by batch, each round trip bounded. */
  async scanAndUnlink(
    client: RedisClient,
    match: string,
    doomed: (fullKey: string) => boolean,
    bound: Bound,
  ): Promise<number> {
    const perNode = await Promise.all(
      this.pool.masters(client).map(async (node) => {
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
