import {
  assertKnownOptions,
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  CacheOptionError,
  type CacheStore,
  CacheTimeoutError,
  jsonSerializer,
  parseDuration,
  type Serializer,
  type StoreEvent,
  type StoreEventListener,
  type TierHealth,
  type TierStats,
  validatePattern,
  validateTags,
  withDeadline,
} from '@strata-cache/core'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { CircuitBreaker, DEFAULT_BREAKER } from './circuit-breaker.ts'
import { corkUntilNextTick } from './cork.ts'
import { decodeEntry, decodeHeader, encodeEntry } from './entry-codec.ts'
import { ConnectionPool } from './pool.ts'
import { REDIS_STORE_OPTIONS, type RedisClient, type RedisStoreOptions } from './redis-store-options.ts'
import { reconnectDelay } from './retry.ts'
import { escapeGlob } from './scan-pattern.ts'

const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024
// Tag sets live under `<prefix>#tag:`; `#` is not a key character, so no cache key can collide with them.
const INTERNAL_MARK = '#'
const SCAN_COUNT = 1000
const TAG_SCAN_COUNT = 500
// getMany/setMany chunks: each chunk is one pipelined round trip under its own deadline.
const BATCH_SIZE = 500
/** Command timeouts whose timer ran late because this process was blocked (see recordFailure). */
const stallTimeouts = new WeakSet<object>()
const RESTART_AFTER_STALL = { restartAfterStall: true } as const
const PREFIX_PATTERN = /^[\x21-\x7e]{0,128}$/

/** An error the caller did not cause: the store absorbs it (miss / no-op) and reports it. */
function unavailable(message: string, cause?: unknown, key?: string): CacheError {
  return new CacheError(CacheErrorCode.STORE_UNAVAILABLE, message, { cause, key })
}

/** Redis answered, but about data (a hand-written key of another type): not a sign of a sick server. */
function isDataReply(error: unknown): boolean {
  return error instanceof Error && /^WRONGTYPE/.test(error.message)
}

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
  /** A stall's first timeout has been counted; cleared on the next event-loop turn. */
  private stallCounted = false
  /** Tier name in events, stats and the `tier` of entries read back. */
  readonly name: string
  /** The prefix every key, tag set and pattern of this store carries. */
  readonly prefix: string
  /** Per-round-trip deadline, ms. */
  readonly commandTimeoutMs: number
  /** Largest encoded entry accepted, bytes. */
  readonly maxValueBytes: number
  private readonly serializer: Serializer
  private readonly now: () => number
  private readonly connectTimeoutMs: number
  private readonly pool: ConnectionPool
  private readonly breaker: CircuitBreaker
  private readonly listeners = new Set<StoreEventListener>()
  private readonly escapedPrefix: string
  private errorCount = 0
  // Reads Redis answered, by outcome (a failed read is an error, not a miss).
  private hits = 0
  private misses = 0
  private connectionErrorReported = false
  private closed = false
  private startWait: Promise<boolean> | undefined
  private startWindowOver = false
  private circuitOpenError: CacheError | undefined

  constructor(options: RedisStoreOptions) {
    assertKnownOptions('RedisStore', options, REDIS_STORE_OPTIONS)
    if (options === undefined || options === null) {
      throw new CacheOptionError(
        'RedisStore: options are required (give one of url, client, cluster, sentinel)',
      )
    }
    const sources = (['url', 'client', 'cluster', 'sentinel'] as const).filter(
      (k) => options[k] !== undefined,
    )
    if (sources.length !== 1) {
      throw new CacheOptionError(
        `RedisStore: give exactly one of url, client, cluster, sentinel (got ${sources.length === 0 ? 'none' : sources.join(', ')})`,
        { option: sources[1] ?? 'url' },
      )
    }
    this.name = options.name ?? 'redis'
    if (typeof this.name !== 'string' || this.name === '') {
      throw new CacheOptionError('RedisStore: option "name" must be a non-empty string', { option: 'name' })
    }
    this.prefix = options.prefix ?? 'strata:'
    if (typeof this.prefix !== 'string' || !PREFIX_PATTERN.test(this.prefix)) {
      throw new CacheOptionError(
        `RedisStore: invalid prefix ${JSON.stringify(this.prefix)}: use up to 128 printable characters without spaces, e.g. 'myapp:'`,
        { option: 'prefix' },
      )
    }
    this.escapedPrefix = escapeGlob(this.prefix)
    this.commandTimeoutMs = parseDuration(options.commandTimeout ?? 100, 'commandTimeout')
    this.connectTimeoutMs = parseDuration(options.connectTimeout ?? 1000, 'connectTimeout')
    if (this.commandTimeoutMs <= 0) {
      throw new CacheOptionError('RedisStore: option "commandTimeout" must be more than 0 ms (default 100)', {
        option: 'commandTimeout',
      })
    }
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES
    if (!Number.isInteger(this.maxValueBytes) || this.maxValueBytes <= 0) {
      throw new CacheOptionError(
        `RedisStore: option "maxValueBytes" must be a positive integer, got ${String(options.maxValueBytes)}`,
        { option: 'maxValueBytes' },
      )
    }
    this.serializer = options.serializer ?? jsonSerializer
    this.now = options.now ?? Date.now
    const poolSize = options.pool?.size ?? 1
    if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 64) {
      throw new CacheOptionError(
        `RedisStore: option "pool.size" must be an integer from 1 to 64, got ${poolSize}`,
        {
          option: 'pool',
        },
      )
    }
    const breakerOptions = options.breaker ?? {}
    assertKnownOptions('RedisStore breaker', breakerOptions, [
      'failureThreshold',
      'failureRatio',
      'minimumCalls',
      'window',
      'probeInterval',
    ])
    this.breaker = new CircuitBreaker(
      {
        failureThreshold: breakerOptions.failureThreshold ?? DEFAULT_BREAKER.failureThreshold,
        failureRatio: breakerOptions.failureRatio ?? DEFAULT_BREAKER.failureRatio,
        minimumCalls: breakerOptions.minimumCalls ?? DEFAULT_BREAKER.minimumCalls,
        windowMs: parseDuration(breakerOptions.window ?? DEFAULT_BREAKER.windowMs, 'breaker.window'),
        probeIntervalMs: parseDuration(
          breakerOptions.probeInterval ?? DEFAULT_BREAKER.probeIntervalMs,
          'breaker.probeInterval',
        ),
      },
      {
        probe: () => this.probe(),
        onStateChange: (state, previous) => this.emit({ type: 'breaker', tier: this.name, state, previous }),
        now: this.now,
      },
    )
    this.pool = this.createPool(options, poolSize)
    for (const client of this.pool.clients) this.watch(client)
  }

  // ---- connections ------------------------------------------------------------------------------

  private createPool(options: RedisStoreOptions, size: number): ConnectionPool {
    if (options.client !== undefined) {
      const client = options.client
      if (typeof client?.get !== 'function' || typeof client?.on !== 'function') {
        throw new CacheOptionError(
          'RedisStore: option "client" must be an ioredis Redis or Cluster instance',
          {
            option: 'client',
          },
        )
      }
      return new ConnectionPool([client], false, client instanceof Cluster || 'nodes' in client)
    }
    const retry = options.retry ?? {}
    assertKnownOptions('RedisStore retry', retry, ['baseDelay', 'maxDelay'])
    const retryMs = {
      baseDelayMs: parseDuration(retry.baseDelay ?? 50, 'retry.baseDelay'),
      maxDelayMs: parseDuration(retry.maxDelay ?? 1000, 'retry.maxDelay'),
    }
    // No offline queue: a command on a disconnected client fails at once instead of waiting
    // for a reconnect; retries per request stay small; reconnects go on forever with backoff.
    // No auto-pipelining on a single node: `run` corks the socket for the tick instead, which
    // batches as well without waiting for setImmediate (see corkUntilNextTick).
    const common: RedisOptions = {
      enableOfflineQueue: false,
      enableAutoPipelining: false,
      maxRetriesPerRequest: 1,
      connectTimeout: Math.max(this.connectTimeoutMs, 200),
      retryStrategy: (times: number) => reconnectDelay(times, retryMs),
      ...options.redisOptions,
    }
    const clients: RedisClient[] = []
    if (options.cluster !== undefined) {
      const nodes = options.cluster.nodes
      if (!Array.isArray(nodes) || nodes.length === 0) {
        throw new CacheOptionError('RedisStore: option "cluster.nodes" must list at least one node', {
          option: 'cluster',
        })
      }
      for (let i = 0; i < size; i++) {
        clients.push(
          new Cluster(nodes as never, {
            enableOfflineQueue: false,
            enableAutoPipelining: true,
            clusterRetryStrategy: (times: number) => reconnectDelay(times, retryMs),
            ...options.cluster.options,
            redisOptions: { ...common, ...options.cluster.options?.redisOptions },
          }),
        )
      }
      return new ConnectionPool(clients, true, true)
    }
    if (options.sentinel !== undefined) {
      const { sentinels, name, password, sentinelPassword } = options.sentinel
      if (!Array.isArray(sentinels) || sentinels.length === 0 || typeof name !== 'string' || name === '') {
        throw new CacheOptionError(
          'RedisStore: option "sentinel" needs { sentinels: [{ host, port }], name }',
          {
            option: 'sentinel',
          },
        )
      }
      for (let i = 0; i < size; i++) {
        clients.push(
          new Redis({
            ...common,
            sentinels: sentinels as never,
            name,
            password,
            sentinelPassword,
            sentinelRetryStrategy: (times: number) => reconnectDelay(times, retryMs),
          }),
        )
      }
      return new ConnectionPool(clients, true, false)
    }
    const url = options.url!
    if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
      throw new CacheOptionError(
        `RedisStore: option "url" must start with redis:// or rediss://, got ${JSON.stringify(url)}`,
        { option: 'url' },
      )
    }
    for (let i = 0; i < size; i++) clients.push(new Redis(url, common))
    return new ConnectionPool(clients, true, false)
  }

  private watch(client: RedisClient): void {
    client.on('ready', () => {
      this.connectionErrorReported = false
    })
    // ioredis emits connection errors on every reconnect attempt: report the first of an outage only.
    client.on('error', (error: unknown) => {
      if (this.connectionErrorReported || this.closed) return
      this.connectionErrorReported = true
      this.report('connect', unavailable(`${this.name}: connection error: ${String(error)}`, error))
    })
    client.on('close', () => {
      // Lost every connection after having had one: no need to wait for 5 failed calls.
      if (!this.closed && this.pool.everReady && this.pool.readyCount() === 0) this.breaker.open()
    })
  }

  /** One shared, bounded wait for the first connection; afterwards calls fail fast. */
  private firstConnection(): Promise<boolean> {
    this.startWait ??= this.pool.waitReady(this.connectTimeoutMs).then((ok) => {
      this.startWindowOver = true
      return ok
    })
    return this.startWait
  }

  private async probe(): Promise<void> {
    const client = this.pool.next()
    if (client === undefined) throw unavailable(`${this.name}: no connection is ready`)
    // On a cluster every master must answer: a PING routed to a healthy node proves nothing about a hung one.
    await this.deadline(Promise.all(this.masters(client).map((node) => node.ping())), 'probe')
  }

  // ---- plumbing ---------------------------------------------------------------------------------

  private emit(event: StoreEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A listener must never break a cache call.
      }
    }
  }

  private report(operation: string, error: unknown, key?: string): void {
    this.errorCount++
    if (this.listeners.size === 0) return
    const event: StoreEvent = { type: 'error', operation, tier: this.name, error }
    if (key !== undefined) event.key = key
    this.emit(event)
  }

  /**
   * One command's deadline. Time this process's own event loop was blocked is not counted (the
   * deadline restarts once): a busy process has not found Redis slow, and a command held for the
   * tick's batched write (corkUntilNextTick) is not even on its socket until the loop runs again.
   */
  private deadline<T>(promise: Promise<T>, operation: string, key?: string): Promise<T> {
    const ms = this.commandTimeoutMs
    return withDeadline(
      promise,
      ms,
      ({ lateMs, forgivenMs }) => {
        const stalled = lateMs > ms / 2
        const blocked = Math.round(forgivenMs + (stalled ? lateMs : 0))
        const error = new CacheTimeoutError(
          `${this.name} ${operation} got no answer within ${ms} ms (commandTimeout)${
            blocked > 0 ? `, not counting ${blocked} ms this process's event loop was blocked` : ''
          }`,
          ms,
          { code: CacheErrorCode.COMMAND_TIMEOUT, key },
        )
        if (stalled) stallTimeouts.add(error)
        return error
      },
      RESTART_AFTER_STALL,
    )
  }

  /**
   * A failure for the breaker. Commands that time out together because this process was blocked
   * count as one failure: a busy process has not found Redis down, and one stall must not open the
   * breaker and turn the next 500 ms of reads into misses. Real slowness still counts per command.
   */
  private recordFailure(error?: unknown): void {
    if (error !== undefined && stallTimeouts.has(error as object)) {
      if (this.stallCounted) return
      this.stallCounted = true
      setImmediate(() => {
        this.stallCounted = false
      })
    }
    this.breaker.recordFailure()
  }

  private assertOpen(): void {
    if (this.closed) throw new CacheError(CacheErrorCode.CLOSED, `${this.name}: the store is closed`)
  }

  /**
   * Runs `fn` on a ready connection behind the breaker. Availability failures resolve `fallback`
   * and are reported; `bounded` wraps the whole of `fn` in one deadline (multi-step operations
   * bound each round trip themselves).
   */
  private async run<T>(
    operation: string,
    key: string | undefined,
    fallback: T,
    bounded: boolean,
    fn: (client: RedisClient) => Promise<T>,
  ): Promise<T> {
    if (!this.breaker.allows()) {
      // The fail-fast path runs for every call of an outage: one shared error, built only for listeners.
      this.errorCount++
      if (this.listeners.size > 0) {
        this.circuitOpenError ??= new CacheError(
          CacheErrorCode.CIRCUIT_OPEN,
          `${this.name}: circuit open, Redis is not called until a background probe succeeds`,
        )
        const event: StoreEvent = { type: 'error', operation, tier: this.name, error: this.circuitOpenError }
        if (key !== undefined) event.key = key
        this.emit(event)
      }
      return fallback
    }
    let client = this.pool.next()
    if (client === undefined && !this.pool.everReady && !this.startWindowOver) {
      // Only right after construction: wait (bounded, once for all callers) for the first connection.
      await this.firstConnection()
      client = this.pool.next()
    }
    if (client === undefined) {
      this.breaker.recordFailure()
      this.report(operation, unavailable(`${this.name}: no connection is ready`, undefined, key), key)
      return fallback
    }
    corkUntilNextTick(client)
    try {
      const result = await (bounded ? this.deadline(fn(client), operation, key) : fn(client))
      this.breaker.recordSuccess()
      return result
    } catch (error) {
      if (
        CacheError.is(error, CacheErrorCode.VALUE_TOO_LARGE) ||
        CacheError.is(error, CacheErrorCode.SERIALIZATION)
      ) {
        throw error
      }
      if (isDataReply(error)) this.breaker.recordSuccess()
      else this.recordFailure(error)
      this.report(
        operation,
        CacheError.is(error)
          ? error
          : unavailable(`${this.name} ${operation} failed: ${String(error)}`, error, key),
        key,
      )
      return fallback
    }
  }

  private encode(key: string, entry: CacheEntry): { text: string; ttlMs: number } {
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
    return { text, ttlMs: Math.ceil(entry.staleUntil - this.now()) }
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
      this.report(operation, error, key)
      return undefined
    }
    return this.now() < entry.staleUntil ? entry : undefined
  }

  /** The commands that write a batch: one SET PX (or UNLINK) per entry, then one SADD + expiry per tag. */
  private writeCommands(
    client: RedisClient,
    items: readonly { key: string; text: string; ttlMs: number; entry: CacheEntry }[],
  ): Promise<unknown>[] {
    const commands: Promise<unknown>[] = []
    const tagged = new Map<string, { members: string[]; ttlMs: number }>()
    for (const { key, ttlMs, entry } of items) {
      if (ttlMs <= 0 || entry.tags === undefined) continue
      for (const tag of entry.tags) {
        const group = tagged.get(tag)
        if (group === undefined) tagged.set(tag, { members: [key], ttlMs })
        else {
          group.members.push(key)
          group.ttlMs = Math.max(group.ttlMs, ttlMs)
        }
      }
    }
    // Tag sets first: a deleteTags racing this write then finds the keys.
    for (const [tag, { members, ttlMs }] of tagged) {
      const tagKey = this.tagKeyFor(tag)
      commands.push(client.sadd(tagKey, ...members))
      // A set lives at least as long as its longest member: set a TTL if none, else only extend it.
      commands.push(client.pexpire(tagKey, ttlMs, 'NX'), client.pexpire(tagKey, ttlMs, 'GT'))
    }
    for (const { key, text, ttlMs } of items) {
      const full = this.keyFor(key)
      commands.push(ttlMs <= 0 ? client.unlink(full) : client.set(full, text, 'PX', ttlMs))
    }
    return commands
  }

  private async getTexts(client: RedisClient, fullKeys: readonly string[]): Promise<(string | null)[]> {
    if (fullKeys.length === 0) return []
    // MGET needs every key in one slot on a cluster; there, single GETs are auto-pipelined per node.
    if (this.pool.isCluster) return Promise.all(fullKeys.map((k) => client.get(k)))
    return client.mget(...fullKeys)
  }

  private async unlinkMany(client: RedisClient, fullKeys: readonly string[]): Promise<number> {
    if (fullKeys.length === 0) return 0
    if (this.pool.isCluster) {
      const counts = await Promise.all(fullKeys.map((k) => client.unlink(k)))
      return counts.reduce((a, b) => a + b, 0)
    }
    return client.unlink(...fullKeys)
  }

  private masters(client: RedisClient): Redis[] {
    return this.pool.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
  }

  /** SCAN every master for `match` and UNLINK what `keep` accepts, batch by batch, each round trip bounded. */
  private async scanAndUnlink(
    client: RedisClient,
    operation: string,
    match: string,
    keep: (fullKey: string) => boolean,
  ): Promise<number> {
    const perNode = await Promise.all(
      this.masters(client).map(async (node) => {
        let removed = 0
        let cursor = '0'
        do {
          const [next, keys] = await this.deadline(
            node.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT),
            operation,
          )
          cursor = next
          const doomed = keys.filter(keep)
          if (doomed.length > 0) removed += await this.deadline(this.unlinkMany(client, doomed), operation)
        } while (cursor !== '0')
        return removed
      }),
    )
    return perNode.reduce((a, b) => a + b, 0)
  }

  // ---- public helpers for TieredStore and tools -------------------------------------------------

  /** The Redis key that holds cache key `key` (the prefix applied). */
  keyFor(key: string): string {
    return this.prefix + key
  }

  /** The Redis set that lists the keys carrying `tag`. */
  tagKeyFor(tag: string): string {
    return `${this.prefix}${INTERNAL_MARK}tag:${tag}`
  }

  /** True while the breaker is closed and at least one connection is ready. */
  isAvailable(): boolean {
    return !this.closed && this.breaker.state === 'closed' && this.pool.readyCount() > 0
  }

  /** Current breaker state. */
  get breakerState(): 'closed' | 'open' | 'half-open' {
    return this.breaker.state
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
    if (!this.breaker.allows())
      throw new CacheError(CacheErrorCode.CIRCUIT_OPEN, `${this.name}: circuit open`)
    let client = this.pool.next()
    if (client === undefined && !this.pool.everReady && !this.startWindowOver) {
      await this.firstConnection()
      client = this.pool.next()
    }
    if (client === undefined) {
      this.breaker.recordFailure()
      throw unavailable(`${this.name}: no connection is ready`)
    }
    try {
      const result = await this.deadline(fn(client), 'withClient')
      this.breaker.recordSuccess()
      return result
    } catch (error) {
      if (isDataReply(error) || (error instanceof Error && error.name === 'ReplyError'))
        this.breaker.recordSuccess()
      else this.recordFailure(error)
      throw error
    }
  }

  /** Resolves true once a connection is ready (false after `timeoutMs`, default connectTimeout). */
  ready(timeoutMs: number = this.connectTimeoutMs): Promise<boolean> {
    return this.pool.waitReady(timeoutMs)
  }

  // ---- CacheStore -------------------------------------------------------------------------------

  /** The entry under `key`, or undefined (also when Redis is unavailable, or the entry is corrupt). */
  async get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    this.assertOpen()
    return this.run('get', key, undefined, true, async (client) => {
      let text: string | null
      try {
        text = await client.get(this.keyFor(key))
      } catch (error) {
        // Something else (a list, a hash) under our key: treat as corrupt.
        if (!isDataReply(error)) throw error
        await client.unlink(this.keyFor(key))
        this.report(
          'get',
          new CacheError(
            CacheErrorCode.CORRUPT_ENTRY,
            `corrupt cache entry "${key}" in ${this.name}: ${String(error)}`,
            {
              key,
              cause: error,
            },
          ),
          key,
        )
        return undefined
      }
      const corrupt: string[] = []
      const entry = this.decode<T>('get', key, text, corrupt)
      if (corrupt.length > 0) await client.unlink(corrupt[0]!)
      if (entry === undefined) this.misses++
      else this.hits++
      return entry
    })
  }

  /** Entries for many keys in one round trip (MGET; per-node pipelines on a cluster). */
  async getMany<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]> {
    this.assertOpen()
    const misses = (): (CacheEntry<T> | undefined)[] => keys.map(() => undefined)
    if (keys.length === 0) return []
    return this.run('getMany', undefined, misses(), false, async (client) => {
      const out: (CacheEntry<T> | undefined)[] = []
      for (let i = 0; i < keys.length; i += BATCH_SIZE) {
        const chunk = keys.slice(i, i + BATCH_SIZE)
        const entries = await this.deadline(
          this.getTexts(
            client,
            chunk.map((k) => this.keyFor(k)),
          ).then(async (texts) => {
            const corrupt: string[] = []
            const decoded = chunk.map((key, j) => {
              const entry = this.decode<T>('getMany', key, texts[j] ?? null, corrupt)
              if (entry === undefined) this.misses++
              else this.hits++
              return entry
            })
            if (corrupt.length > 0) await this.unlinkMany(client, corrupt)
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
    const { text, ttlMs } = this.encode(key, entry)
    await this.run('set', key, undefined, true, async (client) => {
      await Promise.all(this.writeCommands(client, [{ key, text, ttlMs, entry }]))
    })
  }

  /** False on a Cluster, where `setAndPublish` only writes (its PUBLISH could go to another node than the key). */
  get canPublishWithWrite(): boolean {
    return !this.pool.isCluster
  }

  /**
   * `set`, then on the same connection and in the same write a PUBLISH of `message(stream)` to
   * `channel` (`stream` is the connection's position in the pool: the connection's commands are one
   * ordered stream). Redis runs them in order, so a subscriber told about the write finds it done,
   * and one round trip covers both. Resolves true when Redis acknowledged both; false when it was not
   * asked (open breaker, no connection, a Cluster, whose PUBLISH may go to another node than the
   * key) or either failed (reported like a failed `set`): then publish another way.
   */
  async setAndPublish<T>(
    key: string,
    entry: CacheEntry<T>,
    channel: string,
    message: (stream: number) => string,
  ): Promise<boolean> {
    if (this.pool.isCluster) {
      await this.set(key, entry)
      return false
    }
    this.assertOpen()
    const { text, ttlMs } = this.encode(key, entry)
    return this.run('set', key, false, true, async (client) => {
      const commands = this.writeCommands(client, [{ key, text, ttlMs, entry }])
      commands.push(client.publish(channel, message(this.pool.indexOf(client))))
      await Promise.all(commands)
      return true
    })
  }

  /** Every value is checked (serializable, within maxValueBytes) before any is written; then one pipelined batch. */
  async setMany<T>(entries: readonly [string, CacheEntry<T>][]): Promise<void> {
    this.assertOpen()
    const encoded = entries.map(([key, entry]) => ({ key, entry, ...this.encode(key, entry) }))
    if (encoded.length === 0) return
    // Chunks, each under its own deadline: a big batch is not one round trip.
    await this.run('setMany', undefined, undefined, false, async (client) => {
      for (let i = 0; i < encoded.length; i += BATCH_SIZE) {
        const chunk = encoded.slice(i, i + BATCH_SIZE)
        await this.deadline(Promise.all(this.writeCommands(client, chunk)), 'setMany')
      }
    })
  }

  /** True when an entry was removed; false when there was none or Redis is unavailable. */
  async delete(key: string): Promise<boolean> {
    this.assertOpen()
    return this.run('delete', key, false, true, async (client) => (await client.unlink(this.keyFor(key))) > 0)
  }

  /** SCAN (every master) + UNLINK in batches of this store's keys matching `pattern`; never KEYS. */
  async deletePattern(pattern: string): Promise<number> {
    this.assertOpen()
    validatePattern(pattern)
    const internal = this.prefix + INTERNAL_MARK
    return this.run('deletePattern', undefined, 0, false, (client) =>
      this.scanAndUnlink(
        client,
        'deletePattern',
        this.escapedPrefix + pattern,
        (k) => !k.startsWith(internal),
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
    return this.run('deleteTags', undefined, 0, false, async (client) => {
      let removed = 0
      for (const tag of new Set(tags)) {
        const tagKey = this.tagKeyFor(tag)
        let cursor = '0'
        do {
          const [next, members] = await this.deadline(
            client.sscan(tagKey, cursor, 'COUNT', TAG_SCAN_COUNT),
            'deleteTags',
          )
          cursor = next
          if (members.length === 0) continue
          const texts = await this.deadline(
            this.getTexts(
              client,
              members.map((m) => this.keyFor(m)),
            ),
            'deleteTags',
          )
          const doomed: string[] = []
          members.forEach((member, i) => {
            const text = texts[i]
            if (text === null || text === undefined) return
            const header = decodeHeader(text)
            // A corrupt value under a tagged key goes too.
            if (header === undefined || header.tags.includes(tag)) doomed.push(this.keyFor(member))
          })
          if (doomed.length > 0) removed += await this.deadline(this.unlinkMany(client, doomed), 'deleteTags')
          // SREM what we handled rather than UNLINK the set: members added meanwhile stay findable.
          await this.deadline(client.srem(tagKey, ...members), 'deleteTags')
        } while (cursor !== '0')
      }
      return removed
    })
  }

  /** Removes every key under this store's prefix (entries and tag sets) with SCAN + UNLINK; never FLUSHDB. */
  async clear(): Promise<void> {
    this.assertOpen()
    await this.run('clear', undefined, 0, false, (client) =>
      this.scanAndUnlink(client, 'clear', `${this.escapedPrefix}*`, () => true),
    )
  }

  /** Stops the probe and closes the connections the store opened (a `client` you gave stays open). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.breaker.stop()
    await this.pool.close(this.commandTimeoutMs * 5)
    this.listeners.clear()
  }

  /** Events: `error` for every absorbed failure and corrupt entry, `breaker` on state changes. */
  subscribe(listener: StoreEventListener): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** Availability, breaker, failure counts, PING latency and INFO figures (summed over masters on a cluster). */
  async stats(): Promise<TierStats[]> {
    if (!this.closed && !this.pool.everReady && !this.startWindowOver) await this.firstConnection()
    const details: Record<string, unknown> = {
      breaker: this.breaker.state,
      failureCount: this.breaker.failures,
      consecutiveFailures: this.breaker.consecutive,
      connections: this.pool.clients.length,
      readyConnections: this.pool.readyCount(),
    }
    let available = this.isAvailable()
    const client = this.pool.next()
    if (available && client !== undefined) {
      try {
        const started = performance.now()
        await this.deadline(client.ping(), 'stats')
        details.pingLatencyMs = round(performance.now() - started)
        const infos = await this.deadline(
          Promise.all(this.masters(client).map((node) => node.info())),
          'stats',
        )
        Object.assign(details, summarizeInfo(infos))
      } catch (error) {
        available = false
        details.error = String(error)
      }
    }
    return [
      { tier: this.name, available, hits: this.hits, misses: this.misses, errors: this.errorCount, details },
    ]
  }

  /** `up` when Redis answers PING within the deadline and the breaker is closed; `down` otherwise. */
  async health(): Promise<TierHealth[]> {
    if (!this.closed && !this.pool.everReady && !this.startWindowOver) await this.firstConnection()
    const details = { breaker: this.breaker.state, readyConnections: this.pool.readyCount() }
    if (this.closed) return [{ tier: this.name, status: 'down', message: 'store closed', details }]
    if (this.breaker.state !== 'closed') {
      return [{ tier: this.name, status: 'down', message: `circuit ${this.breaker.state}`, details }]
    }
    const client = this.pool.next()
    if (client === undefined) {
      return [{ tier: this.name, status: 'down', message: 'no connection is ready', details }]
    }
    const started = performance.now()
    try {
      await this.deadline(client.ping(), 'health')
      return [{ tier: this.name, status: 'up', latencyMs: round(performance.now() - started), details }]
    } catch (error) {
      return [
        {
          tier: this.name,
          status: 'down',
          latencyMs: round(performance.now() - started),
          message: String(error instanceof Error ? error.message : error),
          details,
        },
      ]
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

function infoField(info: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:(.*)$`, 'm').exec(info)
  return match?.[1]?.trim()
}

/** Redis's own human format (1.50M), for figures summed over cluster masters. */
function humanBytes(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(2)}${units[unit]}`
}

function summarizeInfo(infos: readonly string[]): Record<string, unknown> {
  let keyspaceHits = 0
  let keyspaceMisses = 0
  let usedMemoryBytes = 0
  let connectedClients = 0
  for (const info of infos) {
    keyspaceHits += Number(infoField(info, 'keyspace_hits') ?? 0)
    keyspaceMisses += Number(infoField(info, 'keyspace_misses') ?? 0)
    usedMemoryBytes += Number(infoField(info, 'used_memory') ?? 0)
    connectedClients += Number(infoField(info, 'connected_clients') ?? 0)
  }
  const usedMemoryHuman =
    infos.length === 1
      ? (infoField(infos[0]!, 'used_memory_human') ?? humanBytes(usedMemoryBytes))
      : humanBytes(usedMemoryBytes)
  return { keyspaceHits, keyspaceMisses, usedMemoryBytes, usedMemoryHuman, connectedClients }
}
