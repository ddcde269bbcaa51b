import { CacheOptionError } from '@strata-cache/core'
import type { RedisStoreOptions } from '@strata-cache/redis'
import type { ClusterNode, ClusterOptions, RedisOptions, SentinelAddress } from 'ioredis'
import type { RedisBusOptions } from './redis-bus-options.ts'

/** createCache on a Redis Cluster: seed nodes, and extra ioredis ClusterOptions, as for `new Cluster(nodes, options)`. */
export interface CacheClusterOptions {
  /** Seed nodes (`{ host, port }`); ioredis discovers the rest. */
  nodes: readonly ClusterNode[]
  /** Extra ioredis ClusterOptions; credentials and TLS in `redisOptions` (`{ password, username, tls }`). @default {} */
  options?: ClusterOptions
}

/** createCache through Redis Sentinel: the sentinels and the master group they monitor. */
export interface CacheSentinelOptions {
  /** Sentinel addresses (`{ host, port }`), at least one. */
  sentinels: readonly Partial<SentinelAddress>[]
  /** The master group name the sentinels monitor. */
  name: string
  /** Password of the Redis master (not of the sentinels). @default undefined */
  password?: string
  /** Password of the sentinels. @default undefined */
  sentinelPassword?: string
}

/** Where L2, the bus and the lock connect: exactly one of a URL, a cluster, or sentinels. */
export type RedisTarget =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'cluster'; readonly cluster: CacheClusterOptions }
  | { readonly kind: 'sentinel'; readonly sentinel: CacheSentinelOptions }

/**
 * The one Redis that createCache's options name, checked, or undefined for a memory-only cache (no
 * `redisUrl`, `cluster` or `sentinel`; an empty `redisUrl` counts as none). Throws a CacheOptionError
 * when more than one is given or one is malformed.
 */
export function resolveRedisTarget(options: {
  redisUrl?: unknown
  cluster?: unknown
  sentinel?: unknown
}): RedisTarget | undefined {
  const { redisUrl, cluster, sentinel } = options
  if (redisUrl !== undefined && typeof redisUrl !== 'string') {
    throw new CacheOptionError(`createCache: option "redisUrl" must be a string, got ${typeof redisUrl}`, {
      option: 'redisUrl',
    })
  }
  const given = [
    ['redisUrl', redisUrl !== undefined && redisUrl !== ''],
    ['cluster', cluster !== undefined],
    ['sentinel', sentinel !== undefined],
  ].filter(([, on]) => on)
  if (given.length > 1) {
    throw new CacheOptionError(
      `createCache: give exactly one of "redisUrl", "cluster", "sentinel" (got ${given.map(([name]) => name).join(', ')})`,
      { option: String(given[1]![0]) },
    )
  }
  if (cluster !== undefined) {
    const nodes = (cluster as { nodes?: unknown } | null)?.nodes
    if (!Array.isArray(nodes) || nodes.length === 0) {
      throw new CacheOptionError(
        'createCache: option "cluster" needs { nodes: [{ host, port }, ...], options? } with at least one node',
        { option: 'cluster' },
      )
    }
    return { kind: 'cluster', cluster: cluster as CacheClusterOptions }
  }
  if (sentinel !== undefined) {
    const { sentinels, name } = (sentinel ?? {}) as Partial<CacheSentinelOptions>
    if (!Array.isArray(sentinels) || sentinels.length === 0 || typeof name !== 'string' || name === '') {
      throw new CacheOptionError(
        'createCache: option "sentinel" needs { sentinels: [{ host, port }, ...], name, password? }',
        { option: 'sentinel' },
      )
    }
    return { kind: 'sentinel', sentinel: sentinel as CacheSentinelOptions }
  }
  if (redisUrl === undefined || redisUrl === '') return undefined
  if (!/^rediss?:\/\//.test(redisUrl)) {
    throw new CacheOptionError(
      `createCache: option "redisUrl" must start with redis:// or rediss:// (got "${redisUrl}")`,
      { option: 'redisUrl' },
    )
  }
  return { kind: 'url', url: redisUrl }
}

/** The RedisStore options that say where L2 is. */
export function storeTarget(target: RedisTarget): Pick<RedisStoreOptions, 'url' | 'cluster' | 'sentinel'> {
  switch (target.kind) {
    case 'url':
      return { url: target.url }
    case 'cluster':
      return { cluster: target.cluster }
    case 'sentinel':
      return { sentinel: target.sentinel }
  }
}

/**
 * The RedisBus options that say where the bus is: the same server(s) as L2, with L2's extra ioredis
 * options (credentials, TLS) under the bus's own `redisOptions`.
 */
export function busTarget(
  target: RedisTarget,
  storeRedisOptions: RedisOptions | undefined,
  busRedisOptions: RedisOptions | undefined,
): Pick<RedisBusOptions, 'url' | 'cluster' | 'redisOptions'> {
  const shared =
    storeRedisOptions === undefined && busRedisOptions === undefined
      ? undefined
      : { ...storeRedisOptions, ...busRedisOptions }
  switch (target.kind) {
    case 'url':
      return { url: target.url, ...(busRedisOptions === undefined ? {} : { redisOptions: busRedisOptions }) }
    case 'cluster':
      return { cluster: target.cluster, ...(shared === undefined ? {} : { redisOptions: shared }) }
    case 'sentinel': {
      const { sentinels, name, password, sentinelPassword } = target.sentinel
      return {
        redisOptions: {
          ...shared,
          sentinels: sentinels as Partial<SentinelAddress>[],
          name,
          ...(password === undefined ? {} : { password }),
          ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
        },
      }
    }
  }
}
