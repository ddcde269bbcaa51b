import { connect as netConnect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { CacheError, CacheErrorCode, CacheOptionError } from '@strata-cache/core'
import {
  connectNodesWhenReady,
  type IoredisModule,
  keySlot,
  reconnectDelay,
} from '@strata-cache/redis/internal'
import type { Cluster, ClusterNode, ClusterOptions, RedisOptions } from 'ioredis'

/** Where the bus runs on a Redis Cluster: seed nodes and extra ioredis ClusterOptions. */
export interface BusClusterOptions {
  /** Seed nodes (`{ host, port }`); ioredis discovers the rest. */
  nodes: readonly ClusterNode[]
  /** Extra ioredis ClusterOptions (natMap, dnsLookup...). @default {} */
  options?: ClusterOptions
}

/** Checks the `cluster` option of a RedisBus; `url` cannot go with it. */
export function resolveBusCluster(
  cluster: BusClusterOptions | undefined,
  url: string | undefined,
): BusClusterOptions | undefined {
  if (cluster === undefined) return undefined
  if (url !== undefined) {
    throw new CacheOptionError('RedisBus: give "url" or "cluster", not both', { option: 'cluster' })
  }
  if (
    typeof cluster !== 'object' ||
    cluster === null ||
    !Array.isArray(cluster.nodes) ||
    cluster.nodes.length === 0
  ) {
    throw new CacheOptionError(
      'RedisBus: option "cluster" needs { nodes: [{ host, port }] } with at least one node',
      {
        option: 'cluster',
      },
    )
  }
  return cluster
}

/** The in-process peer registry's name for a cluster's channel: its seed nodes. */
export function clusterScope(cluster: BusClusterOptions): string {
  const seeds = cluster.nodes.map((n) =>
    typeof n === 'object' ? `${n.host ?? ''}:${n.port ?? ''}` : String(n),
  )
  return `cluster:${seeds.sort().join(',')}`
}

/**
 * The bus's publisher on a cluster: a Cluster client that fails fast (no offline queue, no retries
 * per request on a node) — the bus's own queue retries, latest wins.
 */
export function openClusterPublisher(
  ioredis: IoredisModule,
  cluster: BusClusterOptions,
  redisOptions: RedisOptions,
  commandTimeoutMs: number,
): Cluster {
  const client = new ioredis.Cluster(cluster.nodes as ClusterNode[], {
    enableOfflineQueue: false,
    clusterRetryStrategy: (attempt: number) => reconnectDelay(attempt),
    ...cluster.options,
    redisOptions: {
      ...redisOptions,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      commandTimeout: commandTimeoutMs,
      ...cluster.options?.redisOptions,
    },
  })
  // ioredis connects to a node on its first command: connect them once ready, so a lock command does not pay it.
  connectNodesWhenReady(client)
  return client
}

/**
 * SPUBLISH on the shard that owns the channel's slot, bounded by `timeoutMs`: the Cluster client
 * retries a command through a failover (MOVED, CLUSTERDOWN, a closed connection) for up to ~1.6 s,
 * longer than a caller should wait for a notice the bus queues and retries anyway.
 */
export function publishSharded(
  cluster: Cluster,
  channel: string,
  message: string,
  timeoutMs: number,
): Promise<number> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    cluster.spublish(channel, message) as Promise<number>,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CacheError(
              CacheErrorCode.COMMAND_TIMEOUT,
              `bus: SPUBLISH not acknowledged within ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      )
    }),
  ]).finally(() => clearTimeout(timer))
}

/** How long a (re)connection waits for the cluster's slot map before using the one it has. */
const SLOTS_REFRESH_WAIT_MS = 1000

/**
 * An ioredis `Connector` for the bus's subscriber on a cluster: every (re)connection first refreshes
 * the Cluster client's slot map, then goes to the master that owns the channel's slot now, so after a
 * failover or a slot moving the subscriber follows the channel by itself. TLS options are honoured
 * as by ioredis's own connector.
 */
export function shardOwnerConnector(
  ioredis: IoredisModule,
  cluster: Cluster,
  channel: string,
  seeds: readonly ClusterNode[],
): NonNullable<RedisOptions['Connector']> {
  const slot = keySlot(channel)
  const seed = seedAddress(seeds[0])
  return class ShardOwnerConnector extends ioredis.AbstractConnector {
    private readonly tls: RedisOptions['tls']

    constructor(options: unknown) {
      const { disconnectTimeout, tls } = options as RedisOptions
      super(disconnectTimeout ?? 2000)
      this.tls = tls
    }

    async connect(): Promise<never> {
      this.connecting = true
      await refreshSlots(cluster)
      if (!this.connecting) throw new Error('Connection is closed.')
      // No owner known yet (the cluster client not connected yet): a seed node, which answers
      // SSUBSCRIBE with MOVED, and the subscriber connects again. Never reject: ioredis would stop.
      const owner = cluster.slots[slot]?.[0] ?? seed
      const at = owner.lastIndexOf(':')
      const target = { host: owner.slice(0, at), port: Number(owner.slice(at + 1)) }
      const tls = this.tls
      const stream = tls === undefined ? netConnect(target) : tlsConnect({ ...tls, ...target })
      stream.once('error', (error) => {
        this.firstError = error
      })
      this.stream = stream
      return stream as never
    }
  }
}

/**
 * The cluster's slot map as it is now, within a bounded wait: the Cluster client's first one when it
 * is still connecting (so the bus is not subscribed before its publisher can publish), else a fresh
 * one. Resolves when it came, failed, or the wait is over.
 */
function refreshSlots(cluster: Cluster): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      cluster.off('ready', done)
      resolve()
    }
    const timer = setTimeout(done, SLOTS_REFRESH_WAIT_MS)
    timer.unref()
    if (cluster.status === 'ready') cluster.refreshSlotsCache(done)
    else cluster.once('ready', done)
  })
}

/** `host:port` of a seed node as ioredis takes one: `{ host, port }`, a port, or `host:port` / a URL. */
function seedAddress(node: ClusterNode | undefined): string {
  if (typeof node === 'object') return `${node.host ?? '127.0.0.1'}:${node.port ?? 6379}`
  if (typeof node === 'number' || node === undefined) return `127.0.0.1:${node ?? 6379}`
  const url = new URL(node.includes('//') ? node : `redis://${node}`)
  return `${url.hostname || '127.0.0.1'}:${url.port || 6379}`
}
