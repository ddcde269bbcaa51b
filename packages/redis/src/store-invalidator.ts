import { validatePattern, validateTags } from '@strata-cache/core'
import type { ClusterWrites } from './cluster-writes.ts'
import type { CommandRunner } from './command-runner.ts'
import type { FencedWrites, InvalidationOutcome, StoreInvalidation } from './fenced-writes.ts'
import type { Bound, KeyCommands } from './key-commands.ts'
import type { RedisClient } from './redis-store-options.ts'
import { escapeGlob } from './scan-pattern.ts'
import type { TagIndex } from './tag-index.ts'

const NOT_APPLIED: InvalidationOutcome = Object.freeze({ applied: false, removed: 0 })

/**
 * The store's removals — keys, a pattern's keys, tagged keys, the whole prefix — each behind the
 * runner, each leaving its fence first (on a Cluster whose prefix has no hash tag: key fences per
 * slot, the others on every master, see ClusterWrites).
 */
export class StoreInvalidator {
  private readonly prefix: string
  private readonly escapedPrefix: string

  constructor(
    private readonly runner: CommandRunner,
    private readonly keys: KeyCommands,
    private readonly tags: TagIndex,
    private readonly fenced: FencedWrites,
    /** Set on a cluster whose prefix has no hash tag: key fences per slot, the others on every master. */
    private readonly cluster?: ClusterWrites,
  ) {
    this.prefix = tags.internalPrefix.slice(0, -1)
    this.escapedPrefix = escapeGlob(this.prefix)
  }

  /** See {@link RedisStore.invalidate}. */
  async invalidate(invalidation: StoreInvalidation): Promise<InvalidationOutcome> {
    const bound =
      (operation: string): Bound =>
      (p) =>
        this.runner.deadline(p, operation)
    switch (invalidation.kind) {
      case 'key': {
        const { keys } = invalidation
        if (keys.length === 0) return { applied: true, removed: 0 }
        return this.runner.run(
          'delete',
          keys.length === 1 ? keys[0] : undefined,
          NOT_APPLIED,
          true,
          async (c) => ({
            applied: true,
            removed:
              this.cluster !== undefined
                ? await this.cluster.deleteKeys(c, keys)
                : await this.fenced.deleteKeys(c, keys),
          }),
        )
      }
      case 'pattern': {
        validatePattern(invalidation.pattern)
        const internal = this.tags.internalPrefix
        const match = this.escapedPrefix + invalidation.pattern
        return this.runner.run('deletePattern', undefined, NOT_APPLIED, false, (c) =>
          this.fenceThenRemove(c, invalidation, 'deletePattern', () =>
            this.keys.scanAndUnlink(c, match, (k) => !k.startsWith(internal), bound('deletePattern')),
          ),
        )
      }
      case 'tags': {
        validateTags(invalidation.tags)
        if (invalidation.tags.length === 0) return { applied: true, removed: 0 }
        return this.runner.run('deleteTags', undefined, NOT_APPLIED, false, (c) =>
          this.fenceThenRemove(c, invalidation, 'deleteTags', () =>
            this.tags.deleteTags(c, invalidation.tags, bound('deleteTags')),
          ),
        )
      }
      case 'clear': {
        // Fences stay: they are what tells a late fill that the prefix was cleared after it began.
        const fences = this.fenced.fenceKeyPrefix
        return this.runner.run('clear', undefined, NOT_APPLIED, false, (c) =>
          this.fenceThenRemove(c, invalidation, 'clear', () =>
            this.keys.scanAndUnlink(
              c,
              `${this.escapedPrefix}*`,
              (k) => !k.startsWith(fences),
              bound('clear'),
            ),
          ),
        )
      }
    }
  }

  /**
   * The fence, then the removal. On a single node the removal's first commands go out right behind
   * the fence on the same connection, without waiting for its reply: Redis runs them in that order,
   * and a stalled host's late fence reply no longer leaves the entries in place (other pods read
   * them back) until the repair — the soak saw that. A failure of either is the call's failure; the
   * other half still completes (both are idempotent). On a Cluster the fence goes to every master
   * first, so the removal waits for it.
   */
  private async fenceThenRemove(
    client: RedisClient,
    invalidation: Exclude<StoreInvalidation, { kind: 'key' }>,
    operation: string,
    remove: () => Promise<number>,
  ): Promise<InvalidationOutcome> {
    if (this.cluster !== undefined) {
      await this.fence(client, invalidation, operation)
      return { applied: true, removed: await remove() }
    }
    const fence = this.fence(client, invalidation, operation)
    const removal = remove()
    // Whichever fails first fails the call; the other must not become an unhandled rejection.
    fence.catch(() => {})
    removal.catch(() => {})
    await fence
    return { applied: true, removed: await removal }
  }

  /**
   * Leaves the fence of a pattern, tags or clear before its keys go: in the prefix's one slot (a
   * single node, or a cluster prefix with a hash tag), or on every master of a cluster (see ClusterWrites).
   */
  private fence(
    client: RedisClient,
    invalidation: Exclude<StoreInvalidation, { kind: 'key' }>,
    operation: string,
  ): Promise<void> {
    if (this.cluster !== undefined)
      return this.cluster.fence(client, invalidation, (p) => this.runner.deadline(p, operation))
    return this.runner.deadline(this.fenced.fence(client, invalidation), operation)
  }
}
