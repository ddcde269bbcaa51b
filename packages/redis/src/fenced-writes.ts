import type { CommandRunner } from './command-runner.ts'
import {
  evalOnNoScript,
  evalShaFlat,
  runScript,
  SCRIPTS,
  type Script,
  type ScriptArg,
  WriteReply,
} from './fence-scripts.ts'
import type { ConnectionPool } from './pool.ts'
import { RedisClock } from './redis-clock.ts'
import type { RedisClient } from './redis-store-options.ts'
import type { EncodedWrite, TagIndex } from './tag-index.ts'
import type { WriteFollowUp } from './write-connection.ts'

/**
 * What became of a write: `written`; `superseded` (a fill whose loader began before a later change
 * of its key, tags or prefix — the newer state stays); `late` (a set that reached Redis after its
 * caller had given up on it); `lease-lost` (the lock lease the write was fenced by is gone);
 * `failed` (Redis was not reached or did not answer in time: the caller cannot know whether it applied).
 */
export type WriteOutcome = 'written' | 'superseded' | 'late' | 'lease-lost' | 'failed'

/** A lock lease a write is fenced by: it applies only while `key` still holds `token`. */
export interface LeaseFence {
  readonly key: string
  readonly token: string
}

/** How to write: a plain `set` (the default), or a fill of a loader's result. */
export interface WriteOptions {
  /**
   * The write is a loader's result and its loader began at this time of Redis's clock, in µs (read
   * it with {@link RedisStore.loadStart} before the loader starts): it is dropped if the key, one of
   * its tags, a pattern matching it or the whole prefix was changed since.
   */
  fillSince?: number
  /** Applies only while this lock lease is still held (checked atomically with the write). */
  lease?: LeaseFence
  /** Commands issued on the write's connection right behind it (see {@link RedisStore.setFollowedBy}). */
  followUp?: WriteFollowUp
}

/** What a store removes: keys, a glob pattern, tags or its whole prefix. */
export type StoreInvalidation =
  | { readonly kind: 'key'; readonly keys: readonly string[] }
  | { readonly kind: 'pattern'; readonly pattern: string }
  | { readonly kind: 'tags'; readonly tags: readonly string[] }
  | { readonly kind: 'clear' }

/** Whether Redis applied an invalidation (false: not reached or no answer in time), and how many entries it removed. */
export interface InvalidationOutcome {
  applied: boolean
  removed: number
}

/** Patterns fenced at once; past this the oldest widen into the clear fence. */
const MAX_PATTERN_FENCES = 1000
/** Slack past the command deadline before a `set` counts as late, ms (the clock estimate's own error is added). */
const LATE_SLACK_MS = 20
/** How often the clock is sampled again when no write has sampled it, ms. */
const CLOCK_RESYNC_MS = 30_000

interface FencedWritesSettings {
  prefix: string
  commandTimeoutMs: number
  fenceWindowMs: number
}

/**
 * The store's writes and invalidations as one script each, so that L2 never goes back in time: a
 * set that arrives late is dropped, a fill that began before a change is dropped, and every delete,
 * pattern, tag and clear leaves a short-lived fence that later-arriving fills are judged against.
 * Times come from Redis's own clock (see fence-scripts.ts); {@link clock} estimates it here.
 */
export class FencedWrites {
  /** This process's estimate of Redis's clock, sampled from every write's reply. */
  readonly clock: RedisClock
  private readonly fencePrefix: string
  // Fence keys and their heads, built once: a write names four keys.
  private readonly keyFencePrefix: string
  private readonly tagFencePrefix: string
  private readonly clearFence: string
  private readonly patternFences: string
  private syncing = false
  private readonly resync: NodeJS.Timeout

  constructor(
    private readonly settings: FencedWritesSettings,
    private readonly runner: CommandRunner,
    private readonly pool: ConnectionPool,
    private readonly tags: TagIndex,
  ) {
    // Redis's clock runs in real time whatever the store's `now` says (tests and apps may inject
    // their own): estimated from the wall clock, or a frozen injected clock makes every set late.
    this.clock = new RedisClock(Date.now)
    this.fencePrefix = `${tags.internalPrefix}f`
    this.keyFencePrefix = `${this.fencePrefix}:`
    this.tagFencePrefix = `${this.fencePrefix}t:`
    this.clearFence = `${this.fencePrefix}c`
    this.patternFences = `${this.fencePrefix}p`
    this.resync = setInterval(() => this.sync(), CLOCK_RESYNC_MS)
    this.resync.unref()
    // Sample the clock as soon as Redis answers: a fill fenced on an unsampled clock assumes a
    // 1 s error and drops results after any change in the second before it.
    void pool.waitReady(60_000).then((ready) => ready && this.sync())
  }

  /** Every Redis key that is a fence starts with this (a clear keeps them). */
  get fenceKeyPrefix(): string {
    return this.fencePrefix
  }

  /** Redis's time now, as estimated here; samples the clock first if it never was. */
  redisNow(): number {
    if (!this.clock.synced) this.sync()
    return this.clock.now()
  }

  /** When a load starting now began, at the latest, on Redis's clock (µs): a fill's `fillSince`. */
  loadStart(): number {
    if (!this.clock.synced) this.sync()
    return this.clock.loadStart()
  }

  /**
   * Writes one encoded entry on `client` as a fenced script (a fill when `fillSince` is given, else
   * a set); see {@link WriteOutcome}. Keys and arguments as SCRIPTS.set and .fill take them.
   */
  write(client: RedisClient, write: EncodedWrite, options: WriteOptions): Promise<WriteOutcome> {
    const { prefix, fenceWindowMs } = this.settings
    const { key, text, ttlMs } = write
    const tags = write.entry.tags
    const { lease } = options
    const sentAt = Date.now()
    const time = this.writeTime(options, sentAt)
    const script = options.fillSince === undefined ? SCRIPTS.set : SCRIPTS.fill
    if (lease === undefined && (tags === undefined || tags.length === 0)) {
      // The common write: four keys, four arguments, one array.
      const flat = [
        prefix + key,
        this.keyFencePrefix + key,
        this.clearFence,
        this.patternFences,
        text,
        ttlMs,
        time,
        fenceWindowMs,
      ]
      return this.runWrite(client, script, 4, flat, options.followUp, sentAt, text.length)
    }
    const flat: ScriptArg[] = [prefix + key, this.keyFencePrefix + key, this.clearFence, this.patternFences]
    for (const tag of tags ?? []) flat.push(this.tags.keyFor(tag))
    for (const tag of tags ?? []) flat.push(this.tagFencePrefix + tag)
    if (lease !== undefined) flat.push(lease.key)
    const numKeys = flat.length
    flat.push(text, ttlMs, time, fenceWindowMs)
    if (lease !== undefined) flat.push(lease.token)
    return this.runWrite(client, script, numKeys, flat, options.followUp, sentAt, text.length)
  }

  /**
   * The time argument of a write script, in µs of Redis's clock: a fill's `fillSince`, or a set's
   * deadline — the latest Redis's clock may read at `sentAt` (local ms), plus the command timeout and
   * a slack. Past it the set is dropped: its caller has given up on it.
   */
  writeTime(options: WriteOptions, sentAt: number = Date.now()): number {
    if (options.fillSince !== undefined) return options.fillSince
    return Math.ceil((this.clock.latestAt(sentAt) + this.settings.commandTimeoutMs + LATE_SLACK_MS) * 1000)
  }

  /**
   * Runs a write script (the single node's, or a Cluster's: see ClusterWrites) with its `numKeys`
   * keys then its arguments in `keysAndArgs`, and `followUp` right behind it on the same connection;
   * records the clock sample its reply carries. The common path allocates one promise of its own.
   */
  runWrite(
    client: RedisClient,
    script: Script,
    numKeys: number,
    keysAndArgs: readonly ScriptArg[],
    followUp: WriteFollowUp | undefined,
    sentAt: number = Date.now(),
    writeBytes = 0,
  ): Promise<WriteOutcome> {
    const outcome = evalShaFlat(client, script, numKeys, keysAndArgs).then(
      (reply) => this.outcome(reply, sentAt),
      (error: unknown) =>
        evalOnNoScript(error, client, script, numKeys, keysAndArgs).then((reply) =>
          this.outcome(reply, sentAt),
        ),
    )
    if (followUp === undefined) return outcome
    const followed = followUp(this.pool.connection(client), writeBytes)
    return Promise.all([outcome, followed]).then(([written]) => written)
  }

  /** A write script's reply (see WriteReply) as an outcome; a reply that carries Redis's time samples the clock. */
  private outcome(reply: unknown, sentAt: number): WriteOutcome {
    if (typeof reply !== 'number') return 'failed'
    if (reply === WriteReply.LATE) return 'late'
    if (reply === WriteReply.LEASE_LOST) return 'lease-lost'
    this.clock.sample(reply > 0 ? reply : -reply, sentAt, Date.now())
    return reply > 0 ? 'written' : 'superseded'
  }

  /** Removes keys and leaves their fences, in one script: returns how many entries went. */
  async deleteKeys(client: RedisClient, keys: readonly string[]): Promise<number> {
    const pairs: string[] = []
    for (const key of keys) pairs.push(this.settings.prefix + key, this.keyFencePrefix + key)
    return this.deleteScript(client, pairs)
  }

  /** Runs the delete script over (entry, fence) pairs; notes the Redis time its reply carries. */
  async deleteScript(client: RedisClient, pairs: readonly string[]): Promise<number> {
    const sentAt = Date.now()
    const [removed, nowUs] = (await runScript(client, SCRIPTS.delete, pairs, [
      this.settings.fenceWindowMs,
    ])) as [number, number]
    this.clock.sample(nowUs, sentAt, Date.now())
    return removed
  }

  /** Records the fence of a pattern, tags or clear, before their keys are removed. */
  async fence(client: RedisClient, invalidation: Exclude<StoreInvalidation, { kind: 'key' }>): Promise<void> {
    const sentAt = Date.now()
    const nowUs = await this.fenceScript(client, invalidation)
    // The script answers with the fence's own time (µs): one more clock sample, and a time this
    // pod's later loads start after.
    if (typeof nowUs === 'number') this.clock.sample(nowUs, sentAt, Date.now())
  }

  private fenceScript(
    client: RedisClient,
    invalidation: Exclude<StoreInvalidation, { kind: 'key' }>,
  ): Promise<unknown> {
    const window = this.settings.fenceWindowMs
    switch (invalidation.kind) {
      case 'pattern':
        return runScript(
          client,
          SCRIPTS.fence,
          [this.patternFences, this.clearFence],
          ['p', window, invalidation.pattern, MAX_PATTERN_FENCES],
        )
      case 'tags':
        return runScript(
          client,
          SCRIPTS.fence,
          invalidation.tags.map((tag) => this.tagFencePrefix + tag),
          ['t', window],
        )
      case 'clear':
        return runScript(client, SCRIPTS.fence, [this.clearFence], ['c', window])
    }
  }

  /** Stops the clock's background sampling. */
  stop(): void {
    clearInterval(this.resync)
  }

  /** One TIME round trip, absorbed if Redis is away (the next write samples the clock anyway). */
  private sync(): void {
    if (this.syncing) return
    this.syncing = true
    void this.runner
      .run('clock', undefined, undefined, true, async (client) => {
        const sentAt = Date.now()
        const reply = await client.time()
        this.clock.record(reply, sentAt, Date.now())
      })
      .finally(() => {
        this.syncing = false
      })
  }
}
