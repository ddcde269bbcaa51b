import { runScript, SCRIPTS } from './fence-scripts.ts'
import type { FencedWrites, WriteOptions, WriteOutcome } from './fenced-writes.ts'
import type { RedisClient } from './redis-store-options.ts'
import { groupBySlot, sameSlotKey } from './slot-keys.ts'
import type { EncodedWrite, TagIndex } from './tag-index.ts'

interface ClusterWritesSettings {
  prefix: string
  fenceWindowMs: number
}

/**
 * Fenced writes on a Redis Cluster, for a prefix without a hash tag (keys spread over every slot).
 * A script may only touch one slot, so every key the write script checks lives in the entry's slot:
 * the key fence `<prefix>#f:{<entry key>}` and the lock lease `<lock prefix>{<entry key>}` (see
 * {@link sameSlotKey}). A `set` that arrives late, a fill that began before a `set` or `delete` of
 * its key, and a write whose lock lease was lost are dropped as on a single node. Tag sets live in
 * their own slots: they are written (and awaited) before the entry's script, outside it.
 */
export class ClusterWrites {
  private readonly fencePrefix: string

  constructor(
    private readonly settings: ClusterWritesSettings,
    private readonly fenced: FencedWrites,
    private readonly tags: TagIndex,
  ) {
    this.fencePrefix = `${fenced.fenceKeyPrefix}:`
  }

  /** The fence of `key` (when it was last set or deleted), in the entry's slot. */
  keyFence(key: string): string {
    return sameSlotKey(this.fencePrefix, this.settings.prefix + key)
  }

  /** Writes one encoded entry as the fenced script of its slot, its tag sets first; see {@link WriteOutcome}. */
  async write(client: RedisClient, write: EncodedWrite, options: WriteOptions): Promise<WriteOutcome> {
    const full = this.settings.prefix + write.key
    if (write.entry.tags !== undefined && write.entry.tags.length > 0) {
      // Indexed before the entry exists: a deleteTags racing this write finds the key.
      const commands: Promise<unknown>[] = []
      this.tags.pushWrites(client, [write], commands)
      await Promise.all(commands)
    }
    // The clear and pattern fences of a single node have no place in one slot: two keys of the
    // entry's slot that nothing writes stand in for them (see the README, "On a Redis Cluster").
    const keys = [
      full,
      this.keyFence(write.key),
      sameSlotKey(`${this.fencePrefix}c`, full),
      sameSlotKey(`${this.fencePrefix}p`, full),
    ]
    if (options.lease !== undefined) keys.push(options.lease.key)
    return this.fenced.runWrite(client, write, options, keys, 0)
  }

  /** Removes keys and leaves their fences: one script per slot, all at once. Resolves how many entries went. */
  async deleteKeys(client: RedisClient, keys: readonly string[]): Promise<number> {
    const { prefix, fenceWindowMs } = this.settings
    const counts = await Promise.all(
      groupBySlot(keys, (key) => prefix + key).map(({ items }) => {
        const pairs: string[] = []
        for (const key of items) pairs.push(prefix + key, this.keyFence(key))
        // The script answers `{ removed, nowUs }`.
        return (runScript(client, SCRIPTS.delete, pairs, [fenceWindowMs]) as Promise<[number, number]>).then(
          ([removed]) => removed,
        )
      }),
    )
    return counts.reduce((a, b) => a + b, 0)
  }
}
