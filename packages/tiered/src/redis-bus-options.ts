import { CacheOptionError, type Duration, parseDuration } from '@strata-cache/core'
import { assertKnownOptions } from '@strata-cache/core/internal'
import { validatePrefix } from '@strata-cache/redis/internal'
import type { RedisOptions } from 'ioredis'
import { isValidInstanceId } from './bus-message.ts'
import { MIN_SECRET_LENGTH } from './bus-signature.ts'
import { type BusClusterOptions, clusterScope, resolveBusCluster } from './cluster-bus.ts'

/** Options of {@link RedisBus}. Give `url`, `redisOptions`, or both; or `cluster` (with `redisOptions` for its nodes). */
export interface RedisBusOptions {
  /** `redis://[:password@]host:port[/db]`. @default none: then `redisOptions` says where */
  url?: string
  /** ioredis options for both bus connections (merged over the url), e.g. `sentinels` and `name`. @default none */
  redisOptions?: RedisOptions
  /**
   * @deprecated Use `redisOptions` (`redis` means RedisStore options in createCache). Still accepted.
   * @default none
   */
  redis?: RedisOptions
  /**
   * A Redis Cluster: the bus uses sharded pub/sub (SPUBLISH/SSUBSCRIBE on the shard that owns the
   * channel's slot; see the README, "The bus on a Redis Cluster"); `redisOptions` then apply to every
   * node connection (password, username, tls). @default none
   */
  cluster?: BusClusterOptions
  /** Key prefix of the store the bus serves (same rule as RedisStore's); the channel is `<prefix>bus`. @default 'strata:' */
  prefix?: string
  /** This process's id on the bus: 1 to 64 of `A-Z a-z 0-9 _ . -`. @default a random id */
  instanceId?: string
  /** Invalidations kept for retry while Redis is down; past this the queue collapses to one `clear`. @default 1000 */
  maxPending?: number
  /** How often the subscriber connection is pinged; no answer within this long counts as a drop. `0` disables it. @default '1s' */
  heartbeat?: Duration
  /**
   * Deadline of a PUBLISH and of the lock's commands, which share the publisher connection. Longer
   * than RedisStore's 100 ms on purpose: a PUBLISH that misses its deadline is queued and sent again,
   * and Redis may still deliver the first copy, so every other pod sees a duplicate whose sequence
   * number can read as a gap and purge its L1. A PUBLISH also waits for Redis to write the message to
   * every subscriber, which grows with the pods; and the caller waits for it only on the write path
   * (a read never does), while a timed-out store read is just a miss. @default '250ms'
   */
  commandTimeout?: Duration
  /** Hand invalidations synchronously to other buses of this process on the same url and channel. @default true */
  localDelivery?: boolean
  /**
   * Shared secret (at least 16 characters; use 32 random ones) that signs every message
   * (HMAC-SHA256): messages without a valid signature are dropped, counted (`rejected`) and reported
   * once per `rejectionReportInterval`. A list rotates: the first signs, any verifies. Every pod on
   * the channel needs it. @default none: messages are neither signed nor checked
   */
  secret?: string | readonly string[]
  /** With a `secret`: refused messages are reported as one `dropped` state event per this interval, at most. @default '5s' */
  rejectionReportInterval?: Duration
}

export const REDIS_BUS_OPTIONS = [
  'url',
  'redisOptions',
  'redis',
  'cluster',
  'prefix',
  'instanceId',
  'maxPending',
  'heartbeat',
  'commandTimeout',
  'localDelivery',
  'secret',
  'rejectionReportInterval',
] as const

/** Options after defaults and checks. */
export interface ResolvedRedisBusOptions {
  url: string | undefined
  redisOptions: RedisOptions
  /** Set on a Redis Cluster (sharded pub/sub). */
  cluster: BusClusterOptions | undefined
  prefix: string
  instanceId: string
  maxPending: number
  heartbeatMs: number
  commandTimeoutMs: number
  localDelivery: boolean
  /** The secrets, signing one first; undefined without `secret`. */
  secrets: readonly string[] | undefined
  rejectionReportIntervalMs: number
  /** The server and channel, as the in-process peer registry tells buses apart. */
  scope: string
}

/** Checks `options` (unknown names included) and applies the defaults. Throws a CacheOptionError. */
export function resolveRedisBusOptions(
  options: RedisBusOptions,
  randomId: () => string,
): ResolvedRedisBusOptions {
  assertKnownOptions('RedisBus', options, REDIS_BUS_OPTIONS)
  if (options.redisOptions !== undefined && options.redis !== undefined) {
    throw new CacheOptionError('RedisBus: give "redisOptions" or its deprecated alias "redis", not both', {
      option: 'redis',
    })
  }
  const redisOptions = options.redisOptions ?? options.redis
  const cluster = resolveBusCluster(options.cluster, options.url)
  if (options.url === undefined && redisOptions === undefined && cluster === undefined) {
    throw new CacheOptionError('RedisBus: give "url" or "redisOptions" (ioredis options), or "cluster"', {
      option: 'url',
    })
  }
  if (options.url !== undefined && typeof options.url !== 'string') {
    throw new CacheOptionError(`RedisBus: option "url" must be a string, got ${typeof options.url}`, {
      option: 'url',
    })
  }
  const prefix = options.prefix ?? 'strata:'
  validatePrefix(prefix, 'RedisBus')
  const instanceId = options.instanceId ?? randomId()
  if (!isValidInstanceId(instanceId)) {
    throw new CacheOptionError(
      `RedisBus: option "instanceId" must be 1 to 64 of A-Z a-z 0-9 _ . - (got "${String(options.instanceId)}")`,
      { option: 'instanceId' },
    )
  }
  const maxPending = options.maxPending ?? 1000
  if (!Number.isInteger(maxPending) || maxPending < 1) {
    throw new CacheOptionError(
      `RedisBus: option "maxPending" must be an integer >= 1 (got ${String(options.maxPending)})`,
      { option: 'maxPending' },
    )
  }
  const server =
    options.url ??
    (cluster === undefined ? undefined : clusterScope(cluster)) ??
    (redisOptions?.sentinels === undefined ? '' : `sentinel:${redisOptions.name ?? ''}@`) +
      `${redisOptions?.host ?? '127.0.0.1'}:${redisOptions?.port ?? 6379}/${redisOptions?.db ?? 0}`
  return {
    url: options.url,
    // On a cluster, as ioredis does: ClusterOptions.redisOptions apply to every node connection.
    redisOptions: { ...redisOptions, ...cluster?.options?.redisOptions },
    cluster,
    prefix,
    instanceId,
    maxPending,
    heartbeatMs: parseDuration(options.heartbeat ?? '1s', 'heartbeat'),
    commandTimeoutMs: parseDuration(options.commandTimeout ?? '250ms', 'commandTimeout'),
    localDelivery: options.localDelivery !== false,
    secrets: resolveSecrets(options.secret),
    rejectionReportIntervalMs: parseDuration(
      options.rejectionReportInterval ?? '5s',
      'rejectionReportInterval',
    ),
    scope: `${server}|${prefix}bus`,
  }
}

function resolveSecrets(secret: RedisBusOptions['secret']): readonly string[] | undefined {
  if (secret === undefined) return undefined
  const secrets = typeof secret === 'string' ? [secret] : secret
  if (
    !Array.isArray(secrets) ||
    secrets.length === 0 ||
    secrets.some((s) => typeof s !== 'string' || s.length < MIN_SECRET_LENGTH)
  ) {
    throw new CacheOptionError(
      `RedisBus: option "secret" must be a string of at least ${MIN_SECRET_LENGTH} characters, or a non-empty list of them (the first signs)`,
      { option: 'secret' },
    )
  }
  return Object.freeze([...secrets])
}
