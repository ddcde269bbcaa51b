import type { Cluster, RedisOptions } from 'ioredis'
import { warmClusterNodes } from './cluster-nodes.ts'
import { loadIoredis } from './load-ioredis.ts'
import { ConnectionPool } from './pool.ts'
import type { RedisClient, ResolvedRedisStoreOptions } from './redis-store-options.ts'
import { reconnectDelay } from './retry.ts'
import { type StoreEvents, unavailable } from './store-events.ts'

/**
 * The store's connections: the client it was given, or `poolSize` connections it opens itself to a
 * URL, a Cluster or through Sentinel (ioredis is loaded here, on first use).
 */
export function openPool(settings: ResolvedRedisStoreOptions): ConnectionPool {
  const { source, poolSize: size, retry } = settings
  // Cluster clients have nodes(); no instanceof, so a client from another copy of ioredis is seen too.
  if (source.kind === 'client') return new ConnectionPool([source.client], false, 'nodes' in source.client)
  const { Cluster, Redis } = loadIoredis()
  // No offline queue: a command on a disconnected client fails at once instead of waiting
  // for a reconnect; retries per request stay small; reconnects go on forever with backoff.
  // No auto-pipelining on a single node: the command runner corks the socket for the tick
  // instead, which batches as well without waiting for setImmediate (see corkUntilNextTick).
  const common: RedisOptions = {
    enableOfflineQueue: false,
    enableAutoPipelining: false,
    maxRetriesPerRequest: 1,
    connectTimeout: Math.max(settings.connectTimeoutMs, 200),
    retryStrategy: (times: number) => reconnectDelay(times, retry),
    ...settings.redisOptions,
  }
  const clients: RedisClient[] = []
  if (source.kind === 'cluster') {
    for (let i = 0; i < size; i++) {
      clients.push(
        new Cluster(source.nodes as never, {
          enableOfflineQueue: false,
          enableAutoPipelining: true,
          clusterRetryStrategy: (times: number) => reconnectDelay(times, retry),
          ...source.options,
          redisOptions: { ...common, ...source.options?.redisOptions },
        }),
      )
    }
    for (const client of clients) warmClusterNodes(client as Cluster)
    return new ConnectionPool(clients, true, true)
  }
  if (source.kind === 'sentinel') {
    const { sentinels, name, password, sentinelPassword } = source
    for (let i = 0; i < size; i++) {
      clients.push(
        new Redis({
          ...common,
          sentinels: sentinels as never,
          name,
          password,
          sentinelPassword,
          sentinelRetryStrategy: (times: number) => reconnectDelay(times, retry),
        }),
      )
    }
    return new ConnectionPool(clients, true, false)
  }
  for (let i = 0; i < size; i++) clients.push(new Redis(source.url, common))
  return new ConnectionPool(clients, true, false)
}

/** What watching the pool's connections tells the store. */
interface PoolWatch {
  events: StoreEvents
  /** True once the store is closed: connection events are then ignored. */
  isClosed: () => boolean
  /** Every connection was lost after having had one (open the breaker: no need to wait for 5 failed calls). */
  onAllLost: () => void
}

/** Reports the first connection error of each outage, and says when the last connection is lost. */
export function watchPool(pool: ConnectionPool, watch: PoolWatch): void {
  let errorReported = false
  for (const client of pool.clients) {
    client.on('ready', () => {
      errorReported = false
    })
    // ioredis emits connection errors on every reconnect attempt: report the first of an outage only.
    client.on('error', (error: unknown) => {
      if (errorReported || watch.isClosed()) return
      errorReported = true
      watch.events.report(
        'connect',
        unavailable(`${watch.events.tier}: connection error: ${String(error)}`, error),
      )
    })
    client.on('close', () => {
      if (!watch.isClosed() && pool.everReady && pool.readyCount() === 0) watch.onAllLost()
    })
  }
}
