import {
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  type CacheStore,
  type Serializer,
  type StoreEventListener,
  type TierHealth,
  type TierStats,
  validatePattern,
  validateTags,
} from '@strata-cache/core'
import { CommandRunner, isDataReply } from './command-runner.ts'
import { openPool, watchPool } from './connections.ts'
import { decodeEntry, encodeEntry } from './entry-codec.ts'
import { KeyCommands } from './key-commands.ts'
import type { ConnectionPool } from './pool.ts'
import { type InfoSubject, type ReadCounts, redisHealth, redisStats } from './redis-info.ts'
import { type RedisClient, type RedisStoreOptions, resolveRedisStoreOptions } from './redis-store-options.ts'
import { escapeGlob } from './scan-pattern.ts'
import { StoreEvents } from './store-events.ts'
import { type EncodedWrite, TagIndex } from './tag-index.ts'
import type { WriteFollowUp } from './write-connection.ts'

// getMany/setMany chunks: each chunk is one pipelined round trip under its own deadline.
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
  private readonly serializer: Serializer
  private readonly now: () => number
  private readonly connectTimeoutMs: number
  private readonly escapedPrefix: string
  private readonly events: StoreEvents
  private readonly pool: ConnectionPool
  private readonly runner: CommandRunner
  private readonly keys: KeyCommands
  private readonly tags: TagIndex
  private readonly reads: ReadCounts = { hits: 0, misses: 0 }
  private readonly info: InfoSubject
  private closed = false

  /** Checks every option (throws E_INVALID_OPTION naming the first bad one), then opens the connections. */
  constructor(options: RedisStoreOptions) {
    const settings = resolveRedisStoreOptions(options)
    this.name = settings.name
    this.prefix = settings.prefix
    this.escapedPrefix = escapeGlob(this.prefix)
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
    const { runner, pool, events, reads } = this
    this.info = { name: this.name, runner, pool, events, reads, isClosed: () => this.closed }
    watchPool(pool, { events, isClosed: () => this.closed, onAllLost: () => runner.breaker.open() })
  }

  // ---- for TieredStore and tools ----------------------------------------------------------------

  /** The Redis key that holds cache key `key` (the prefix applied). */
  keyFor(key: string): string {
    return this.prefix + key
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
    return this.runner.run('get', key, undefined, true, async (client) => {
      let text: string | null
      try {
        text = await client.get(this.keyFor(key))
      } catch (error) {
        // Something else (a list, a hash) under our key: treat as corrupt.
        if (!isDataReply(error)) throw error
        await client.unlink(this.keyFor(key))
        const message = `corrupt cache entry "${key}" in ${this.name}: ${String(error)}`
        this.events.report(
          'get',
          new CacheError(CacheErrorCode.CORRUPT_ENTRY, message, { key, cause: error }),
          key,
        )
        return undefined
      }
      const corrupt: string[] = []
      const entry = this.decode<T>('get', key, text, corrupt)
      if (corrupt.length > 0) await client.unlink(corrupt[0]!)
      return this.count(entry)
    })
  }

  /** Entries for many keys in one round trip (MGET; per-node pipelines on a cluster). */
  async getMany<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]> {
    this.assertOpen()
    if (keys.length === 0) return []
    const misses: (CacheEntry<T> | undefined)[] = keys.map(() => undefined)
    return this.runner.run('getMany', undefined, misses, false, async (client) => {
      const out: (CacheEntry<T> | undefined)[] = []
      for (let i = 0; i < keys.length; i += BATCH_SIZE) {
        const chunk = keys.slice(i, i + BATCH_SIZE)
        const read = this.keys.getTexts(
          client,
          chunk.map((k) => this.keyFor(k)),
        )
        const entries = await this.runner.deadline(
          read.then(async (texts) => {
            const corrupt: string[] = []
            const decoded = chunk.map((key, j) =>
              this.count(this.decode<T>('getMany', key, texts[j] ?? null, corrupt)),
            )
            if (corrupt.length > 0) await this.keys.unlinkMany(client, corrupt)
            return decoded
          }),
          'getMany',
        )
        out.push(...entries)
      }
      return out
    })
  }

  /** Writes with PX = staleUntil - now; an entry already past staleUntil is not written and the old one is deleted. */
  async set<T>(key: string, entry: CacheEntry<T>): Promise<void> {
    this.assertOpen()
    const write = this.encode(key, entry)
    await this.runner.run('set', key, undefined, true, async (client) => {
      await Promise.all(this.writeCommands(client, [write]))
    })
  }

  /**
   * `set`, then `followUp` on the same connection, in order, in one round trip. Resolves true when
   * Redis acknowledged both; false when the pair was not attempted (breaker open, no connection; on
   * a Cluster only the set runs, as `set`) or either failed (reported like a failed `set`). Rejects
   * only for bad input, like `set`. Redis runs the follow-up after the write, so e.g. a subscriber
   * told about the write by a PUBLISH follow-up finds it done.
   */
  async setFollowedBy<T>(key: string, entry: CacheEntry<T>, followUp: WriteFollowUp): Promise<boolean> {
    if (!this.canFollowWrites) {
      await this.set(key, entry)
      return false
    }
    this.assertOpen()
    const write = this.encode(key, entry)
    return this.runner.run('set', key, false, true, async (client) => {
      const commands = this.writeCommands(client, [write])
      commands.push(followUp(this.pool.connection(client)))
      await Promise.all(commands)
      return true
    })
  }

  /** Every value is checked (serializable, within maxValueBytes) before any is written; then one pipelined batch. */
  async setMany<T>(entries: readonly [string, CacheEntry<T>][]): Promise<void> {
    this.assertOpen()
    const encoded = entries.map(([key, entry]) => this.encode(key, entry))
    if (encoded.length === 0) return
    // Chunks, each under its own deadline: a big batch is not one round trip.
    await this.runner.run('setMany', undefined, undefined, false, async (client) => {
      for (let i = 0; i < encoded.length; i += BATCH_SIZE) {
        const chunk = encoded.slice(i, i + BATCH_SIZE)
        await this.runner.deadline(Promise.all(this.writeCommands(client, chunk)), 'setMany')
      }
    })
  }

  /** True when an entry was removed; false when there was none or Redis is unavailable. */
  async delete(key: string): Promise<boolean> {
    this.assertOpen()
    return this.runner.run(
      'delete',
      key,
      false,
      true,
      async (client) => (await client.unlink(this.keyFor(key))) > 0,
    )
  }

  /** SCAN (every master) + UNLINK in batches of this store's keys matching `pattern`; never KEYS. */
  async deletePattern(pattern: string): Promise<number> {
    this.assertOpen()
    validatePattern(pattern)
    const internal = this.tags.internalPrefix
    return this.runner.run('deletePattern', undefined, 0, false, (client) =>
      this.keys.scanAndUnlink(
        client,
        this.escapedPrefix + pattern,
        (k) => !k.startsWith(internal),
        (p) => this.runner.deadline(p, 'deletePattern'),
      ),
    )
  }

  /**
   * For each tag, walks its set (SSCAN) and UNLINKs the members that still carry the tag; time is
   * proportional to the tagged keys, never a keyspace scan. A key re-written without the tag is kept.
   */
  async deleteTags(tags: readonly string[]): Promise<number> {
    this.assertOpen()
    validateTags(tags)
    if (tags.length === 0) return 0
    return this.runner.run('deleteTags', undefined, 0, false, (client) =>
      this.tags.deleteTags(client, tags, (p) => this.runner.deadline(p, 'deleteTags')),
    )
  }

  /** Removes every key under this store's prefix (entries and tag sets) with SCAN + UNLINK; never FLUSHDB. */
  async clear(): Promise<void> {
    this.assertOpen()
    await this.runner.run('clear', undefined, 0, false, (client) =>
      this.keys.scanAndUnlink(
        client,
        `${this.escapedPrefix}*`,
        () => true,
        (p) => this.runner.deadline(p, 'clear'),
      ),
    )
  }

  /** Stops the probe and closes the connections the store opened (a `client` you gave stays open). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.runner.breaker.stop()
    await this.pool.close(this.commandTimeoutMs * 5)
    this.events.clear()
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

  /** The entry as text, checked (finite timing, valid tags, serializable, within maxValueBytes) before any I/O. */
  private encode(key: string, entry: CacheEntry): EncodedWrite {
    if (
      entry === null ||
      typeof entry !== 'object' ||
      !Number.isFinite(entry.staleUntil) ||
      !Number.isFinite(entry.expiresAt)
    ) {
      throw new CacheError(
        CacheErrorCode.INVALID_OPTION,
        `${this.name}: entry for "${key}" needs finite expiresAt and staleUntil`,
        { key },
      )
    }
    // Tags go into the header comma-separated and name Redis sets: hold them to the key schema.
    if (entry.tags !== undefined) validateTags(entry.tags)
    const text = encodeEntry(entry, this.serializer)
    // Bytes >= chars, and a UTF-16 char is at most 3 UTF-8 bytes: count exactly only when it matters.
    if (text.length * 3 > this.maxValueBytes) {
      const bytes = Buffer.byteLength(text)
      if (bytes > this.maxValueBytes) {
        throw new CacheError(
          CacheErrorCode.VALUE_TOO_LARGE,
          `value for cache key "${key}" is ${bytes} bytes encoded, over maxValueBytes ${this.maxValueBytes} of the ${this.name} store: cache something smaller or raise maxValueBytes`,
          { key, option: 'maxValueBytes' },
        )
      }
    }
    return { key, text, ttlMs: Math.ceil(entry.staleUntil - this.now()), entry }
  }

  /**
   * A value read back: decoded, or (when not a valid entry) reported, listed in `corrupt` for the
   * caller to delete, and treated as a miss. Synchronous: the common path costs no extra promise.
   */
  private decode<T>(
    operation: string,
    key: string,
    text: string | null,
    corrupt: string[],
  ): CacheEntry<T> | undefined {
    if (text === null) return undefined
    let entry: CacheEntry<T>
    try {
      entry = decodeEntry<T>(text, this.serializer, key, this.name)
    } catch (error) {
      corrupt.push(this.keyFor(key))
      this.events.report(operation, error, key)
      return undefined
    }
    return this.now() < entry.staleUntil ? entry : undefined
  }

  /** Counts a read Redis answered, by outcome. */
  private count<T>(entry: CacheEntry<T> | undefined): CacheEntry<T> | undefined {
    if (entry === undefined) this.reads.misses++
    else this.reads.hits++
    return entry
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
