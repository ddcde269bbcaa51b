import {
  type AnySerializer,
  CacheOptionError,
  type Duration,
  jsonSerializer,
  parseDuration,
} from '@strata-cache/core'
import { assertKnownOptions } from '@strata-cache/core/internal'
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions, SentinelAddress } from 'ioredis'
import { type CircuitBreakerOptions, DEFAULT_BREAKER } from './circuit-breaker.ts'
import { type CompressionOptions, resolveCompression } from './compression-options.ts'
import { assertFormatName, type EntryCompression } from './entry-codec.ts'
import { DEFAULT_RETRY, type ResolvedRetryOptions, type RetryOptions } from './retry.ts'
import { clusterPrefixProblem } from './slot-keys.ts'

/** Either kind of ioredis client the store runs commands on. */
export type RedisClient = Redis | Cluster

/** When the store's circuit breaker opens, and how often it probes a sick Redis. */
export interface BreakerOptions {
  /** Open after this many failed calls in a row. @default 5 */
  failureThreshold?: number
  /** Also open when this share (0..1) of the calls in `window` failed. @default 0.5 */
  failureRatio?: number
  /** The ratio rule needs at least this many calls in `window`. @default 20 */
  minimumCalls?: number
  /** Length of the window the failure ratio is computed over. @default '10s' */
  window?: Duration
  /** While open, a background PING runs this often; the breaker closes when it answers. @default '500ms' */
  probeInterval?: Duration
}

/** Options of {@link RedisStore}. Give exactly one of `url`, `client`, `cluster` or `sentinel`. */
export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. @default none (one of url, client, cluster, sentinel) */
  url?: string
  /**
   * An ioredis client you own: used as the whole pool, never closed by the store. Create it with
   * `enableOfflineQueue: false`. @default none (one of url, client, cluster, sentinel)
   */
  client?: RedisClient
  /** Redis Cluster: seed nodes, and extra ioredis `ClusterOptions`. @default none (one of url, client, cluster, sentinel) */
  cluster?: {
    /** Seed nodes (`{ host, port }`); ioredis discovers the rest. */
    nodes: readonly ClusterNode[]
    /** Extra ioredis ClusterOptions. @default {} */
    options?: ClusterOptions
  }
  /** Redis Sentinel: the sentinels and the master group name. @default none (one of url, client, cluster, sentinel) */
  sentinel?: {
    /** Sentinel addresses (`{ host, port }`), at least one. */
    sentinels: readonly Partial<SentinelAddress>[]
    /** The master group name the sentinels monitor. */
    name: string
    /** Password of the Redis master (not of the sentinels). @default undefined */
    password?: string
    /** Password of the sentinels. @default undefined */
    sentinelPassword?: string
  }
  /** Extra ioredis options for every connection the store opens (tls, username, db...). @default {} */
  redisOptions?: RedisOptions
  /** Name of this tier in events, stats and entries read back. @default 'redis' */
  name?: string
  /** Put before every key, tag set and pattern; glob characters in it are escaped. On a Cluster, `{` and `}` only as one hash tag (`{app}:` puts every key on one shard). @default 'strata:' */
  prefix?: string
  /** Connections the store opens (`url`/`sentinel`/`cluster`). @default { size: 1 } (see the README: one connection, its commands batched per tick, measured fastest) */
  pool?: {
    /** How many connections (Cluster clients on a cluster), 1 to 64. @default 1 */
    size?: number
  }
  /** Deadline for each round trip to Redis; a miss is better than a slow hit. @default 100 (ms) */
  commandTimeout?: Duration
  /** How long the first operations wait for the very first connection, before failing fast. @default 1000 (ms) */
  connectTimeout?: Duration
  /** Reconnect backoff: exponential with jitter between `baseDelay` and `maxDelay`. @default { baseDelay: 50, maxDelay: 1000 } */
  retry?: RetryOptions
  /** Circuit breaker thresholds. @default { failureThreshold: 5, failureRatio: 0.5, minimumCalls: 20, window: '10s', probeInterval: '500ms' } */
  breaker?: BreakerOptions
  /** Turns values into text or bytes; its name tags every entry (another format reads as a miss). @default jsonSerializer from @strata-cache/core */
  serializer?: AnySerializer
  /** Compress values at least `threshold` bytes serialized (zlib deflate at `level`); `true`: { threshold: 1024, level: 1 }. @default false */
  compression?: boolean | CompressionOptions
  /** Largest encoded entry accepted, bytes; larger values are refused before any write. @default 1048576 (1 MiB) */
  maxValueBytes?: number
  /**
   * How long a delete, invalidation or `set` fences its keys against fills (loader results) that
   * began before it; a fill whose loader ran longer than this is not written. Also the life of
   * those fences in Redis (one small key per key changed). See the README, "L2 never goes back in time".
   * @default '60s'
   */
  fenceWindow?: Duration
  /** Clock, epoch ms, for expiry decisions. Inject one in tests. @default Date.now */
  now?: () => number
}

/** Where the store's connections come from, checked. */
type ConnectionSource =
  | { kind: 'client'; client: RedisClient }
  | { kind: 'url'; url: string }
  | { kind: 'cluster'; nodes: readonly ClusterNode[]; options: ClusterOptions | undefined }
  | {
      kind: 'sentinel'
      sentinels: readonly Partial<SentinelAddress>[]
      name: string
      password: string | undefined
      sentinelPassword: string | undefined
    }

/** {@link RedisStoreOptions} after defaults and checks, durations in ms. */
export interface ResolvedRedisStoreOptions {
  name: string
  prefix: string
  commandTimeoutMs: number
  fenceWindowMs: number
  connectTimeoutMs: number
  maxValueBytes: number
  serializer: AnySerializer
  compression: EntryCompression | undefined
  now: () => number
  poolSize: number
  breaker: Required<CircuitBreakerOptions>
  retry: ResolvedRetryOptions
  source: ConnectionSource
  redisOptions: RedisOptions | undefined
}

const REDIS_STORE_OPTIONS = [
  'url',
  'client',
  'cluster',
  'sentinel',
  'redisOptions',
  'name',
  'prefix',
  'pool',
  'commandTimeout',
  'connectTimeout',
  'retry',
  'breaker',
  'serializer',
  'compression',
  'maxValueBytes',
  'fenceWindow',
  'now',
] as const
const BREAKER_OPTIONS = [
  'failureThreshold',
  'failureRatio',
  'minimumCalls',
  'window',
  'probeInterval',
] as const
const RETRY_OPTIONS = ['baseDelay', 'maxDelay'] as const
const SOURCES = ['url', 'client', 'cluster', 'sentinel'] as const
const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024
const PREFIX_PATTERN = /^[\x21-\x7e]{0,128}$/

/**
 * Throws a CacheOptionError unless `prefix` is up to 128 printable ASCII characters without spaces:
 * the rule for every Redis key prefix of Strata (store and bus). `owner` names the component in the message.
 */
export function validatePrefix(prefix: unknown, owner: string): asserts prefix is string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new CacheOptionError(
      `${owner}: invalid prefix ${JSON.stringify(prefix)}: use up to 128 printable characters without spaces, e.g. 'myapp:'`,
      { option: 'prefix' },
    )
  }
}

/** {@link RetryOptions} in ms, defaults applied; `owner` names the component in errors. */
export function resolveRetryOptions(retry: RetryOptions | undefined, owner: string): ResolvedRetryOptions {
  assertKnownOptions(`${owner} retry`, retry, RETRY_OPTIONS)
  return {
    baseDelayMs: parseDuration(retry?.baseDelay ?? DEFAULT_RETRY.baseDelayMs, 'retry.baseDelay'),
    maxDelayMs: parseDuration(retry?.maxDelay ?? DEFAULT_RETRY.maxDelayMs, 'retry.maxDelay'),
  }
}

/** Applies defaults and throws a CacheOptionError (or E_INVALID_DURATION) naming the first bad option. */
export function resolveRedisStoreOptions(options: RedisStoreOptions): ResolvedRedisStoreOptions {
  assertKnownOptions('RedisStore', options, REDIS_STORE_OPTIONS)
  if (options === undefined || options === null) {
    throw new CacheOptionError(
      'RedisStore: options are required (give one of url, client, cluster, sentinel)',
    )
  }
  const sources = SOURCES.filter((k) => options[k] !== undefined)
  if (sources.length !== 1) {
    throw new CacheOptionError(
      `RedisStore: give exactly one of url, client, cluster, sentinel (got ${sources.length === 0 ? 'none' : sources.join(', ')})`,
      { option: sources[1] ?? 'url' },
    )
  }
  const name = options.name ?? 'redis'
  if (typeof name !== 'string' || name === '') {
    throw new CacheOptionError('RedisStore: option "name" must be a non-empty string', { option: 'name' })
  }
  const prefix = options.prefix ?? 'strata:'
  validatePrefix(prefix, 'RedisStore')
  const commandTimeoutMs = parseDuration(options.commandTimeout ?? 100, 'commandTimeout')
  const connectTimeoutMs = parseDuration(options.connectTimeout ?? 1000, 'connectTimeout')
  if (commandTimeoutMs <= 0) {
    throw new CacheOptionError('RedisStore: option "commandTimeout" must be more than 0 ms (default 100)', {
      option: 'commandTimeout',
    })
  }
  const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES
  if (!Number.isInteger(maxValueBytes) || maxValueBytes <= 0) {
    throw new CacheOptionError(
      `RedisStore: option "maxValueBytes" must be a positive integer, got ${String(options.maxValueBytes)}`,
      { option: 'maxValueBytes' },
    )
  }
  const fenceWindowMs = parseDuration(options.fenceWindow ?? '60s', 'fenceWindow')
  if (fenceWindowMs < 1000) {
    throw new CacheOptionError(
      `RedisStore: option "fenceWindow" must be at least 1s (default 60s), got ${fenceWindowMs} ms`,
      { option: 'fenceWindow' },
    )
  }
  const poolSize = options.pool?.size ?? 1
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 64) {
    throw new CacheOptionError(
      `RedisStore: option "pool.size" must be an integer from 1 to 64, got ${poolSize}`,
      { option: 'pool' },
    )
  }
  const source = resolveSource(options)
  const onCluster = source.kind === 'cluster' || (source.kind === 'client' && 'nodes' in source.client)
  const prefixProblem = onCluster ? clusterPrefixProblem(prefix) : undefined
  if (prefixProblem !== undefined) {
    throw new CacheOptionError(`RedisStore: ${prefixProblem}`, { option: 'prefix' })
  }
  return {
    name,
    prefix,
    commandTimeoutMs,
    fenceWindowMs,
    connectTimeoutMs,
    maxValueBytes,
    serializer: resolveSerializer(options.serializer),
    compression: resolveCompression(options.compression),
    now: options.now ?? Date.now,
    poolSize,
    breaker: resolveBreakerOptions(options.breaker),
    retry: resolveRetryOptions(options.retry, 'RedisStore'),
    source,
    redisOptions: options.redisOptions,
  }
}

function resolveBreakerOptions(breaker: BreakerOptions | undefined): Required<CircuitBreakerOptions> {
  assertKnownOptions('RedisStore breaker', breaker, BREAKER_OPTIONS)
  return {
    failureThreshold: breaker?.failureThreshold ?? DEFAULT_BREAKER.failureThreshold,
    failureRatio: breaker?.failureRatio ?? DEFAULT_BREAKER.failureRatio,
    minimumCalls: breaker?.minimumCalls ?? DEFAULT_BREAKER.minimumCalls,
    windowMs: parseDuration(breaker?.window ?? DEFAULT_BREAKER.windowMs, 'breaker.window'),
    probeIntervalMs: parseDuration(
      breaker?.probeInterval ?? DEFAULT_BREAKER.probeIntervalMs,
      'breaker.probeInterval',
    ),
  }
}

/** The one connection source given (resolveRedisStoreOptions checked there is exactly one), checked. */
function resolveSource(options: RedisStoreOptions): ConnectionSource {
  if (options.client !== undefined) {
    const client = options.client
    if (typeof client?.get !== 'function' || typeof client?.on !== 'function') {
      throw new CacheOptionError('RedisStore: option "client" must be an ioredis Redis or Cluster instance', {
        option: 'client',
      })
    }
    return { kind: 'client', client }
  }
  if (options.cluster !== undefined) {
    const nodes = options.cluster.nodes
    if (!Array.isArray(nodes) || nodes.length === 0) {
      throw new CacheOptionError('RedisStore: option "cluster.nodes" must list at least one node', {
        option: 'cluster',
      })
    }
    return { kind: 'cluster', nodes, options: options.cluster.options }
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
    return { kind: 'sentinel', sentinels, name, password, sentinelPassword }
  }
  const url = options.url
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new CacheOptionError(
      `RedisStore: option "url" must start with redis:// or rediss://, got ${JSON.stringify(url)}`,
      { option: 'url' },
    )
  }
  return { kind: 'url', url }
}

/** The serializer option checked: its name must be able to tag entries. */
function resolveSerializer(serializer: AnySerializer | undefined): AnySerializer {
  if (serializer === undefined) return jsonSerializer
  assertFormatName(serializer, 'RedisStore')
  return serializer
}
