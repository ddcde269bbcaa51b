import type { Duration, Serializer } from '@strata-cache/core'
import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions, SentinelAddress } from 'ioredis'
import type { CircuitBreakerOptions } from './circuit-breaker.ts'

/** Either kind of ioredis client the store runs commands on. */
export type RedisClient = Redis | Cluster

/** Options of {@link RedisStore}. Give exactly one of `url`, `client`, `cluster` or `sentinel`. */
export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  url?: string
  /** An ioredis client you own: used as the whole pool, never closed by the store. Create it with `enableOfflineQueue: false`. */
  client?: RedisClient
  /** Redis Cluster seed nodes; extra ioredis ClusterOptions may go in `options`. */
  cluster?: { nodes: readonly ClusterNode[]; options?: ClusterOptions }
  /** Redis Sentinel: the sentinels and the master group name. */
  sentinel?: {
    sentinels: readonly Partial<SentinelAddress>[]
    name: string
    /** Password of the Redis master (not of the sentinels). */
    password?: string
    sentinelPassword?: string
  }
  /** Extra ioredis options for every connection the store opens (tls, username, db...). */
  redisOptions?: RedisOptions
  /** Name of this tier in events, stats and entries read back. @default 'redis' */
  name?: string
  /** Put before every key, tag set and pattern; glob characters in it are escaped. @default 'strata:' */
  prefix?: string
  /** Connections the store opens (`url`/`sentinel`/`cluster`). @default { size: 1 } (see the README: one connection, its commands batched per tick, measured fastest) */
  pool?: { size?: number }
  /** Deadline for each round trip to Redis; a miss is better than a slow hit. @default 100 */
  commandTimeout?: Duration
  /** How long the first operations wait for the very first connection, before failing fast. @default 1000 */
  connectTimeout?: Duration
  /** Reconnect backoff: exponential with jitter between `baseDelay` and `maxDelay`. @default { baseDelay: 50, maxDelay: 1000 } */
  retry?: { baseDelay?: Duration; maxDelay?: Duration }
  /** Circuit breaker thresholds. @default { failureThreshold: 5, failureRatio: 0.5, minimumCalls: 20, window: '10s', probeInterval: '500ms' } */
  breaker?: {
    failureThreshold?: number
    failureRatio?: number
    minimumCalls?: number
    window?: Duration
    probeInterval?: Duration
  }
  /** Turns values into text. @default JsonSerializer from @strata-cache/core */
  serializer?: Serializer
  /** Largest encoded entry accepted, bytes; larger values are refused before any write. @default 1048576 (1 MiB) */
  maxValueBytes?: number
  /** Clock, epoch ms, for expiry decisions. Inject one in tests. @default Date.now */
  now?: () => number
}

export const REDIS_STORE_OPTIONS = [
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
  'maxValueBytes',
  'now',
] as const

export type ResolvedBreakerOptions = Required<CircuitBreakerOptions>
