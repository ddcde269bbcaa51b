import {
  type AnySerializer,
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  type CacheStore,
  type CacheTracing,
  type LoadToken,
  type LockLease,
  type StoreEventListener,
  type TierHealth,
  type TierStats,
} from '@strata-cache/core'
import { ClusterWrites } from './cluster-writes.ts'
import { CommandRunner } from './command-runner.ts'
import { openPool, watchPool } from './connections.ts'
import {
  decodePrepared,
  type EntryEncoding,
  encodeWrite,
  type PreparedWrite,
  preparedValueText,
} from './encode-write.ts'
import { EntryReads } from './entry-reads.ts'
import { loadScriptsOnReady } from './fence-scripts.ts'
import {
  FencedWrites,
  type InvalidationOutcome,
  type StoreInvalidation,
  type WriteOptions,
  type WriteOutcome,
} from './fenced-writes.ts'
import { KeyCommands } from './key-commands.ts'
import type { ConnectionPool } from './pool.ts'
import { type InfoSubject, type ReadCounts, redisHealth, redisStats } from './redis-info.ts'
import { type RedisClient, type RedisStoreOptions, resolveRedisStoreOptions } from './redis-store-options.ts'
import { hashTag, sameSlotKey } from './slot-keys.ts'
import { StoreEvents } from './store-events.ts'
import { StoreInvalidator } from './store-invalidator.ts'
import { type EncodedWrite, TagIndex } from './tag-index.ts'
import type { WriteFollowUp } from './write-connection.ts'

// setMany chunks: each chunk is one pipelined round trip under its own deadline.
const BATCH_SIZE = 500

/**
 * The L2 tier: entries in Redis (single node, Cluster or Sentinel) shared by every process.
 *
 * Availability failures never reject: a failed read is a miss, a failed write or delete resolves
 * (false / 0), and each is reported as a StoreEvent `error` and counted; a circuit breaker stops
 * sending commands to a sick Redis and probes it in the background until it answers. Only bad input
 * rejects: a value the serializer refuses (E_SERIALIZATION) or one over `maxValueBytes`
 * (E_VALUE_TOO_LARGE), both before anything is written.
 */
export class RedisStore implements CacheStore {
  /** Tier name in events, stats and the `tier` of entries read back. @default 'redis' */
  readonly name: string
  /** The prefix every key, tag set and pattern of this store carries. @default 'strata:' */
  readonly prefix: string
  /** Per-round-trip deadline, ms. @default 100 */
  readonly commandTimeoutMs: number
  /** Largest encoded entry accepted, bytes. @default 1048576 */
  readonly maxValueBytes: number
  /** False on a Cluster, where a follow-up could reach another node than the key's. */
  readonly canFollowWrites: boolean
  private readonly serializer: AnySerializer
  private readonly now: () => number
  private readonly connectTimeoutMs: number
  private readonly events: StoreEvents
  private readonly pool: ConnectionPool
  private readonly runner: CommandRunner
  private readonly keys: KeyCommands
  private readonly tags: TagIndex
  private readonly reads: ReadCounts = { hits: 0, misses: 0, formatMisses: 0 }
  private readonly info: InfoSubject
  private readonly encoding: EntryEncoding
  private readonly fenced: FencedWrites
  /** Fenced writes per slot, on a Cluster whose prefix has no hash tag (see ClusterWrites). */
  private readonly clusterWrites: ClusterWrites | undefined
  private readonly invalidator: StoreInvalidator
  private readonly entries: EntryReads
  private closed = false

  /** Checks every option (throws E_INVALID_OPTION naming the first bad one), then opens the connections. */
  constructor(options: RedisStoreOptions) {
    const settings = resolveRedisStoreOptions(options)
    this.name = settings.name
    this.prefix = settings.prefix
    this.commandTimeoutMs = settings.commandTimeoutMs
    this.connectTimeoutMs = settings.connectTimeoutMs
    this.maxValueBytes = settings.maxValueBytes
    this.serializer = settings.serializer
    this.now = settings.now
    this.events = new StoreEvents(this.name)
    this.pool = openPool(settings)
    this.canFollowWrites = !this.pool.isCluster
    this.runner = new CommandRunner(settings, this.pool, this.events)
    this.keys = new KeyCommands(this.pool)
    this.tags = new TagIndex(this.prefix, this.keys)
    this.encoding = {
      name: this.name,
      serializer: this.serializer,
      compression: settings.compression,
      maxValueBytes: this.maxValueBytes,
      now: this.now,
    }
    this.fenced = new FencedWrites(settings, this.runner, this.pool, this.tags)
    this.clusterWrites =
      this.pool.isCluster && hashTag(this.prefix) === undefined
        ? new ClusterWrites(settings, this.fenced, this.tags)
        : undefined
    this.invalidator = new StoreInvalidator(
      this.runner,
      this.keys,
      this.tags,
      this.fenced,
      this.clusterWrites,
    )
    if (!this.pool.isCluster) for (const client of this.pool.clients) loadScriptsOnReady(client)
    const { runner, pool, events, reads } = this
    const { name, prefix, serializer, now, keys } = this
    this.entries = new EntryReads({ name, prefix, serializer, now, runner, keys, events, reads })
    this.info = { name: this.name, runner, pool, events, reads, isClosed: () => this.closed }
    watchPool(pool, { events, isClosed: () => this.closed, onAllLost: () => runner.breaker.open() })
  }

  // ---- for TieredStore and tools ----------------------------------------------------------------

  /** The Redis key that holds cache key `key` (the prefix applied). */
  keyFor(key: string): string {
    return this.prefix + key
  }

  /**
   * The Redis key of a lock lease on `key` under `head` (e.g. `app#lock:`), which the write script
   * can check with the entry: `<head><key>` on a single node; on a Cluster, a key of the entry's
   * slot (`<head>{<prefix><key>}`, or `<head><prefix><key>` when the prefix holds a hash tag).
   */
  lockKeyFor(head: string, key: string): string {
    return this.pool.isCluster ? sameSlotKey(head, this.keyFor(key)) : head + key
  }

  /** The Redis set that lists the keys carrying `tag`. */
  tagKeyFor(tag: string): string {
    return this.tags.keyFor(tag)
  }

  /** True while the breaker is closed and at least one connection is ready. */
  isAvailable(): boolean {
    return !this.closed && this.runner.available()
  }

  /** Current breaker state. */
  get breakerState(): 'closed' | 'open' | 'half-open' {
    return this.runner.breaker.state
  }

  /**
   * A ready ioredis client of the pool (any client when none is ready), for raw commands or
   * `duplicate()` (e.g. a pub/sub connection). It bypasses the breaker and deadlines: prefer {@link withClient}.
   */
  get client(): RedisClient {
    return this.pool.next() ?? this.pool.first()
  }

  /**
   * Runs raw commands on a ready connection behind the breaker and the command deadline, and counts
   * the outcome towards the breaker. Rejects (E_CIRCUIT_OPEN, E_STORE_UNAVAILABLE, E_COMMAND_TIMEOUT,
   * or Redis's error) instead of absorbing: the caller decides what a failure means.
   */
  async withClient<T>(fn: (client: RedisClient) => Promise<T>): Promise<T> {
    this.assertOpen()
    return this.runner.runOrThrow('withClient', fn)
  }

  /** Resolves true once a connection is ready, false after `timeoutMs` (default: the connectTimeout option). */
  ready(timeoutMs: number = this.connectTimeoutMs): Promise<boolean> {
    return this.pool.waitReady(timeoutMs)
  }

  // ---- CacheStore -------------------------------------------------------------------------------

  /** The entry under `key`, or undefined (also when Redis is unavailable, or the entry is corrupt). */
  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    this.assertOpen()
    return this.entries.get<T>(key)
  }

  /** Entries for many keys in one round trip (MGET; per-node pipelines on a cluster). */
  async getMany<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]> {
    this.assertOpen()
    return keys.length === 0 ? [] : this.entries.getMany<T>(keys)
  }

  /** Writes with PX = staleUntil - now (fenced: see {@link write}); an entry already past staleUntil deletes the old one. */
  async set<T>(key: string, entry: CacheEntry<T>): Promise<void> {
    await this.write(this.prepare(key, entry))
  }

  /**
   * `set`, then `followUp` on the same connection, in order, in one round trip. Resolves true when
   * Redis acknowledged both; false when the pair was not attempted (breaker open, no connection; on
   * a Cluster only the set runs, as `set`) or either failed (reported like a failed `set`). Rejects
   * only for bad input, like `set`. Redis runs the follow-up after the write, so e.g. a subscriber
   * told about the write by a PUBLISH follow-up finds it done.
   */
  async setFollowedBy<T>(key: string, entry: CacheEntry<T>, followUp: WriteFollowUp): Promise<boolean> {
    const outcome = await this.write(this.prepare(key, entry), { followUp })
    return this.canFollowWrites && outcome !== 'failed'
  }

  /** Redis's clock as this process estimates it, ms. */
  redisNow(): number {
    return this.fenced.redisNow()
  }

  /**
   * When a load starting now began, on Redis's clock in µs, as a safe lower bound (the estimate
   * minus its error, never before a Redis time this process already read): a fill's `fillSince`.
   */
  loadStart(): number {
    return this.fenced.loadStart()
  }

  /** The Cache's load token: {@link loadStart} (see {@link setLoaded}). */
  startLoad(_key: string): LoadToken {
    return this.loadStart()
  }

  /** A loader's result as a fenced fill (with the lease's fence when given); true when written, or when Redis could not be asked. */
  async setLoaded<T>(
    key: string,
    entry: CacheEntry<T>,
    token: LoadToken,
    lease?: LockLease,
  ): Promise<boolean> {
    const fillSince = typeof token === 'number' ? token : undefined
    const outcome = await this.write(this.prepare(key, entry), {
      ...(fillSince === undefined ? {} : { fillSince }),
      ...(lease?.fence === undefined ? {} : { lease: lease.fence }),
    })
    return outcome === 'written' || outcome === 'failed'
  }

  /** Checks and encodes an entry for {@link write}; throws for bad input (E_SERIALIZATION, E_VALUE_TOO_LARGE) before any I/O. */
  prepare<T>(key: string, entry: CacheEntry<T>): PreparedWrite {
    this.assertOpen()
    return encodeWrite(this.encoding, key, entry)
  }

  /**
   * A fresh copy of a {@link prepare}d entry decoded from its encoded text, marked as built for this
   * call alone (like a read's entry): an L1 of the same format keeps it without serializing the value
   * again. Undefined when that would cost more than it saves (compressed or binary values).
   */
  copyOf<T>(prepared: PreparedWrite): CacheEntry<T> | undefined {
    return decodePrepared<T>(prepared, this.serializer, this.name)
  }

  /**
   * The value of a {@link prepare}d entry as the text sent to Redis, when it went as text in
   * `format` (a serializer's name; not compressed, not binary): an L1 of that format can keep it and
   * parse it only if it is read (MemoryStore.fillText). A substring: nothing is copied.
   */
  valueTextOf(prepared: PreparedWrite, format: string): string | undefined {
    return preparedValueText(prepared, format)
  }

  /**
   * Writes a prepared entry as one script that keeps L2 from going back in time (see
   * {@link WriteOutcome}): a `set` that reaches Redis after its caller gave up is dropped, and a fill
   * (`fillSince`) whose loader began before a change of its key, tags, a matching pattern or the
   * prefix is dropped. Never rejects: a Redis failure is `failed`, reported as an `error` event.
   */
  async write(prepared: PreparedWrite, options: WriteOptions = {}): Promise<WriteOutcome> {
    this.assertOpen()
    return this.runner.run('set', prepared.key, 'failed' as WriteOutcome, true, (client) =>
      this.writeOn(client, prepared, options),
    )
  }

  /** Every value is checked (serializable, within maxValueBytes) before any is written; then one pipelined batch. */
  async setMany<T>(entries: readonly [string, CacheEntry<T>][]): Promise<void> {
    this.assertOpen()
    const encoded = entries.map(([key, entry]) => encodeWrite(this.encoding, key, entry))
    if (encoded.length === 0) return
    // Chunks, each under its own deadline: a big batch is not one round trip.
    await this.runner.run('setMany', undefined, undefined, false, async (client) => {
      for (let i = 0; i < encoded.length; i += BATCH_SIZE) {
        const chunk = encoded.slice(i, i + BATCH_SIZE)
        await this.runner.deadline(Promise.all(chunk.map((w) => this.writeOn(client, w, {}))), 'setMany')
      }
    })
  }

  /** True when an entry was removed; false when there was none or Redis is unavailable. */
  async delete(key: string): Promise<boolean> {
    return (await this.invalidate({ kind: 'key', keys: [key] })).removed > 0
  }

  /** Removes many keys in one round trip (one script, fencing each key); resolves how many existed, 0 when Redis is unavailable. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    return (await this.invalidate({ kind: 'key', keys })).removed
  }

  /** SCAN (every master) + UNLINK in batches of this store's keys matching `pattern`; never KEYS. */
  async deletePattern(pattern: string): Promise<number> {
    return (await this.invalidate({ kind: 'pattern', pattern })).removed
  }

  /**
   * For each tag, walks its set (SSCAN) and UNLINKs the members that still carry the tag; time is
   * proportional to the tagged keys, never a keyspace scan. A key re-written without the tag is kept.
   */
  async deleteTags(tags: readonly string[]): Promise<number> {
    return (await this.invalidate({ kind: 'tags', tags })).removed
  }

  /** Removes every entry and tag set under this store's prefix with SCAN + UNLINK; never FLUSHDB. */
  async clear(): Promise<void> {
    await this.invalidate({ kind: 'clear' })
  }

  /**
   * Removes keys, a pattern's keys, tagged keys or the whole prefix, first leaving a fence (see
   * {@link write}) so a fill whose loader began earlier cannot write the old value back. Resolves
   * `applied: false` when Redis could not be reached or did not answer in time (reported as an
   * `error` event): the caller cannot know how much of it was done, and should apply it again later.
   */
  invalidate(invalidation: StoreInvalidation): Promise<InvalidationOutcome> {
    this.assertOpen()
    return this.invalidator.invalidate(invalidation)
  }

  /** Stops the probe and closes the connections the store opened (a `client` you gave stays open). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.runner.breaker.stop()
    this.fenced.stop()
    await this.pool.close(this.commandTimeoutMs * 5)
    this.events.clear()
  }

  /** Spans each call to Redis (`redis.<operation>`, one round trip each but for chunked batches and scans) with this hook; undefined stops. */
  trace(tracing: CacheTracing | undefined): void {
    this.runner.tracing = tracing
  }

  /** Events: `error` for every absorbed failure and corrupt entry, `breaker` on state changes. Returns the unsubscribe function. */
  subscribe(listener: StoreEventListener): () => void {
    return this.events.subscribe(listener)
  }

  /** Availability, breaker, failure counts, PING latency and INFO figures (summed over masters on a cluster). */
  stats(): Promise<TierStats[]> {
    return redisStats(this.info)
  }

  /** `up` when Redis answers PING within the deadline and the breaker is closed; `down` otherwise. */
  health(): Promise<TierHealth[]> {
    return redisHealth(this.info)
  }

  // ---- entries ----------------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new CacheError(CacheErrorCode.CLOSED, `${this.name}: the store is closed`)
  }

  /** One write on `client`: the fenced script (per slot on a Cluster: see ClusterWrites), or an UNLINK past staleUntil. */
  private async writeOn(
    client: RedisClient,
    write: EncodedWrite,
    options: WriteOptions,
  ): Promise<WriteOutcome> {
    if (write.ttlMs > 0) {
      // On a Cluster a follow-up could reach another node than the key's: only the write runs.
      const { followUp: _, ...own } = options
      if (this.clusterWrites !== undefined) return this.clusterWrites.write(client, write, own)
      return this.fenced.write(client, write, this.canFollowWrites ? options : own)
    }
    const commands = this.writeCommands(client, [write])
    if (options.followUp !== undefined && this.canFollowWrites)
      commands.push(options.followUp(this.pool.connection(client), write.text.length))
    await Promise.all(commands)
    return 'written'
  }

  /** The commands that write a batch: the tag sets first, then one SET PX (or UNLINK) per entry. */
  private writeCommands(client: RedisClient, items: readonly EncodedWrite[]): Promise<unknown>[] {
    const commands: Promise<unknown>[] = []
    this.tags.pushWrites(client, items, commands)
    for (const { key, text, ttlMs } of items) {
      const full = this.keyFor(key)
      commands.push(ttlMs <= 0 ? client.unlink(full) : client.set(full, text, 'PX', ttlMs))
    }
    return commands
  }
}
