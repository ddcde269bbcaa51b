import { CacheError, CacheErrorCode } from '@strata-cache/core'
import type { Cluster } from 'ioredis'
import { CLUSTER_SCRIPTS } from './cluster-fence-scripts.ts'
import { runScript, type ScriptArg } from './fence-scripts.ts'
import type { FencedWrites, StoreInvalidation, WriteOptions, WriteOutcome } from './fenced-writes.ts'
import type { Bound } from './key-commands.ts'
import { NodeFences } from './node-fences.ts'
import type { RedisClient } from './redis-store-options.ts'
import { groupBySlot, keySlot, sameSlotKey } from './slot-keys.ts'
import type { EncodedWrite, TagIndex } from './tag-index.ts'

interface ClusterWritesSettings {
  prefix: string
  fenceWindowMs: number
}

/** Patterns fenced at once per node, as on a single node; past this the oldest widen into the clear fence. */
const MAX_PATTERN_FENCES = 1000

/**
 * Fenced writes on a Redis Cluster, for a prefix without a hash tag (keys spread over every slot).
 *
 * The keys a write script checks must live on the entry's node: the key fence
 * `<prefix>#f:{<entry key>}` and the lock lease `<lock prefix>{<entry key>}` in the entry's slot
 * (see {@link sameSlotKey}), and the clear, pattern and tag fences as each master's own copy (see
 * {@link NodeFences}): a pattern, tags or clear writes its fence on every master first, and the
 * write script (flag `allow-cross-slot-keys`, Redis 7) reads the copy on the entry's node. So a
 * late `set`, a fill older than any change that covers it, and a write whose lease was lost are
 * dropped as on a single node. Tag sets live in their own slots: they are written (and awaited)
 * before the entry's script, outside it.
 */
export class ClusterWrites {
  private readonly fencePrefix: string
  private readonly nodes: NodeFences

  constructor(
    private readonly settings: ClusterWritesSettings,
    private readonly fenced: FencedWrites,
    private readonly tags: TagIndex,
  ) {
    this.fencePrefix = `${fenced.fenceKeyPrefix}:`
    this.nodes = new NodeFences(fenced.fenceKeyPrefix)
  }

  /** The fence of `key` (when it was last set or deleted), in the entry's slot. */
  keyFence(key: string): string {
    return sameSlotKey(this.fencePrefix, this.settings.prefix + key)
  }

  /** Writes one encoded entry as the fenced script of its node, its tag sets first; see {@link WriteOutcome}. */
  async write(client: RedisClient, write: EncodedWrite, options: WriteOptions): Promise<WriteOutcome> {
    const full = this.settings.prefix + write.key
    const tags = write.entry.tags ?? []
    if (tags.length > 0) {
      // Indexed before the entry exists: a deleteTags racing this write finds the key.
      const commands: Promise<unknown>[] = []
      this.tags.pushWrites(client, [write], commands)
      await Promise.all(commands)
    }
    const node = this.nodes.tagFor(client as Cluster, keySlot(full))
    if (node === undefined) {
      // The client knows no master of the slot yet (connecting, or in the middle of a failover).
      throw new CacheError(CacheErrorCode.STORE_UNAVAILABLE, `no master is known for "${full}" yet`)
    }
    const { lease } = options
    const flat: ScriptArg[] = [full, this.keyFence(write.key)]
    if (lease !== undefined) flat.push(lease.key)
    const numKeys = flat.length
    flat.push(write.text, write.ttlMs, this.fenced.writeTime(options), this.settings.fenceWindowMs)
    const fill = options.fillSince !== undefined
    if (fill) {
      flat.push(write.key, this.nodes.clearKey(node), this.nodes.patternKey(node))
      for (const tag of tags) flat.push(this.nodes.tagFenceKey(node, tag))
    }
    if (lease !== undefined) flat.push(lease.token)
    const script = fill ? CLUSTER_SCRIPTS.fill : CLUSTER_SCRIPTS.set
    return this.fenced.runWrite(client, script, numKeys, flat, undefined)
  }

  /** Removes keys and leaves their fences: one script per slot, all at once. Resolves how many entries went. */
  async deleteKeys(client: RedisClient, keys: readonly string[]): Promise<number> {
    const { prefix } = this.settings
    const counts = await Promise.all(
      groupBySlot(keys, (key) => prefix + key).map(({ items }) => {
        const pairs: string[] = []
        for (const key of items) pairs.push(prefix + key, this.keyFence(key))
        return this.fenced.deleteScript(client, pairs)
      }),
    )
    return counts.reduce((a, b) => a + b, 0)
  }

  /**
   * Records the fence of a pattern, tags or clear on every master, before their keys are removed.
   * Rejects when a master could not be reached: the invalidation then did not apply, and is applied
   * again later.
   */
  async fence(
    client: RedisClient,
    invalidation: Exclude<StoreInvalidation, { kind: 'key' }>,
    bound: Bound,
  ): Promise<void> {
    // The masters of the client's slot map: one it has not heard of yet is reached by following
    // MOVED from a slot it does know (a promoted replica serves the same slots, so the same tag).
    const replies = await bound(
      Promise.all(
        [...this.nodes.tagsByMaster(client as Cluster).values()].map((node) => {
          const [keys, args] = this.fenceOf(node, invalidation)
          return runScript(client, CLUSTER_SCRIPTS.fence, keys, args)
        }),
      ),
    )
    // Each reply is that node's time (µs): a time this pod's later loads start after.
    for (const nowUs of replies) if (typeof nowUs === 'number') this.fenced.clock.seen(nowUs)
  }

  /** The fence script's keys and arguments for `invalidation` on the master whose fence tag is `node`. */
  private fenceOf(
    node: string,
    invalidation: Exclude<StoreInvalidation, { kind: 'key' }>,
  ): [string[], (string | number)[]] {
    const window = this.settings.fenceWindowMs
    switch (invalidation.kind) {
      case 'pattern':
        return [
          [this.nodes.patternKey(node), this.nodes.clearKey(node)],
          ['p', window, invalidation.pattern, MAX_PATTERN_FENCES],
        ]
      case 'tags':
        return [invalidation.tags.map((tag) => this.nodes.tagFenceKey(node, tag)), ['t', window]]
      case 'clear':
        return [[this.nodes.clearKey(node)], ['c', window]]
    }
  }
}
