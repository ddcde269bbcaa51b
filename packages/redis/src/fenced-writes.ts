import type { CommandRunner } from './command-runner.ts'
import { runScript, SCRIPTS, type Script, WriteCode } from './fence-scripts.ts'
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

const OUTCOMES: Record<number, WriteOutcome> = {
  [WriteCode.WRITTEN]: 'written',
  [WriteCode.SUPERSEDED]: 'superseded',
  [WriteCode.LATE]: 'late',
  [WriteCode.LEASE_LOST]: 'lease-lost',
}

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

  /** Writes one encoded entry on `client` as a fenced script; see {@link WriteOutcome}. */
  write(client: RedisClient, write: EncodedWrite, options: WriteOptions): Promise<WriteOutcome> {
    const tags = write.entry.tags ?? []
    const keys = [
      this.settings.prefix + write.key,
      `${this.fencePrefix}:${write.key}`,
      `${this.fencePrefix}c`,
      `${this.fencePrefix}p`,
      ...tags.map((tag) => this.tags.keyFor(tag)),
      ...tags.map((tag) => `${this.fencePrefix}t:${tag}`),
    ]
    if (options.lease !== undefined) keys.push(options.lease.key)
    return this.runWrite(client, write, options, keys, tags.length)
  }

  /**
   * Runs the write script with `keys` laid out as {@link SCRIPTS}.write takes them (entry, key fence,
   * clear fence, pattern fences, `tagCount` tag sets, `tagCount` tag fences, then the lease's key),
   * and records the clock sample its reply carries. On a cluster `script` is the cluster's (see
   * ClusterWrites): keys of the entry's slot, and `extraArgs` after the same arguments.
   */
  async runWrite(
    client: RedisClient,
    write: EncodedWrite,
    options: WriteOptions,
    keys: readonly string[],
    tagCount: number,
    script: Script = SCRIPTS.write,
    extraArgs: readonly string[] = [],
  ): Promise<WriteOutcome> {
    const { fenceWindowMs } = this.settings
    const commands: Promise<unknown>[] = []
    const fill = options.fillSince !== undefined
    // A fill's start is moved back by the estimate's error: a change it cannot place counts as after.
    const since = fill ? options.fillSince! : 0
    const notAfter = fill
      ? 0
      : Math.ceil(
          (this.clock.now() + this.settings.commandTimeoutMs + this.clock.uncertainty() + LATE_SLACK_MS) *
            1000,
        )
    const sentAt = Date.now()
    const reply = runScript(client, script, keys, [
      fill ? 'f' : 's',
      write.text,
      write.ttlMs,
      since,
      notAfter,
      fenceWindowMs,
      tagCount,
      options.lease?.token ?? '',
      write.key,
      ...extraArgs,
    ])
    commands.push(reply)
    if (options.followUp !== undefined) commands.push(options.followUp(this.pool.connection(client)))
    await Promise.all(commands)
    const [code, nowUs] = (await reply) as [number, number]
    this.clock.seen(nowUs)
    this.clock.recordMs(nowUs / 1000, sentAt, Date.now())
    return OUTCOMES[code] ?? 'failed'
  }

  /** Removes keys and leaves their fences, in one script: returns how many entries went. */
  async deleteKeys(client: RedisClient, keys: readonly string[]): Promise<number> {
    const pairs: string[] = []
    for (const key of keys) pairs.push(this.settings.prefix + key, `${this.fencePrefix}:${key}`)
    return this.deleteScript(client, pairs)
  }

  /** Runs the delete script over (entry, fence) pairs; notes the Redis time its reply carries. */
  async deleteScript(client: RedisClient, pairs: readonly string[]): Promise<number> {
    const sentAt = Date.now()
    const [removed, nowUs] = (await runScript(client, SCRIPTS.delete, pairs, [
      this.settings.fenceWindowMs,
    ])) as [number, number]
    this.clock.seen(nowUs)
    this.clock.recordMs(nowUs / 1000, sentAt, Date.now())
    return removed
  }

  /** Records the fence of a pattern, tags or clear, before their keys are removed. */
  async fence(client: RedisClient, invalidation: Exclude<StoreInvalidation, { kind: 'key' }>): Promise<void> {
    const sentAt = Date.now()
    const nowUs = await this.fenceScript(client, invalidation)
    // The script answers with the fence's own time (µs): one more clock sample, and a time this
    // pod's later loads start after.
    if (typeof nowUs === 'number') {
      this.clock.seen(nowUs)
      this.clock.recordMs(nowUs / 1000, sentAt, Date.now())
    }
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
          [`${this.fencePrefix}p`, `${this.fencePrefix}c`],
          ['p', window, invalidation.pattern, MAX_PATTERN_FENCES],
        )
      case 'tags':
        return runScript(
          client,
          SCRIPTS.fence,
          invalidation.tags.map((tag) => `${this.fencePrefix}t:${tag}`),
          ['t', window],
        )
      case 'clear':
        return runScript(client, SCRIPTS.fence, [`${this.fencePrefix}c`], ['c', window])
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
