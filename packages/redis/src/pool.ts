import type { Cluster, Redis } from 'ioredis'
import type { RedisClient } from './redis-store-options.ts'
import type { WriteConnection } from './write-connection.ts'

/**
 * The connections a store spreads commands over: round robin across the ready ones, so a
 * reconnecting connection is skipped instead of failing a caller.
 */
export class ConnectionPool {
  private cursor = 0
  private everReadyFlag = false
  private readonly readyWaiters = new Set<() => void>()
  private readonly connections: ReadonlyMap<RedisClient, WriteConnection>

  constructor(
    /** Every client of the pool, ready or not. */
    readonly clients: readonly RedisClient[],
    /** Whether the store opened them (and so closes them). */
    readonly owned: boolean,
    /** Whether the clients are Cluster clients (a command's node depends on its key). */
    readonly isCluster: boolean,
  ) {
    this.connections = new Map(clients.map((client, id) => [client, { client, id }]))
    for (const client of clients) {
      if (client.status === 'ready') this.everReadyFlag = true
      client.on('ready', () => {
        this.everReadyFlag = true
        for (const wake of this.readyWaiters) wake()
        this.readyWaiters.clear()
      })
    }
  }

  /** True once any connection has been ready at least once. */
  get everReady(): boolean {
    return this.everReadyFlag
  }

  /** Next ready client, or undefined when none is ready. */
  next(): RedisClient | undefined {
    const n = this.clients.length
    for (let i = 0; i < n; i++) {
      const client = this.clients[(this.cursor + i) % n]!
      if (client.status === 'ready') {
        this.cursor = (this.cursor + i + 1) % n
        return client
      }
    }
    return undefined
  }

  /** The client as a {@link WriteConnection}: its position in the pool is its id. */
  connection(client: RedisClient): WriteConnection {
    return this.connections.get(client)!
  }

  /** The nodes a whole-keyspace command (SCAN, INFO, a probe's PING) must reach: every master of a cluster. */
  masters(client: RedisClient): Redis[] {
    return this.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
  }

  /** Any client, ready or not (for probes that should see the real error). */
  first(): RedisClient {
    return this.clients[0]!
  }

  /** How many connections are ready now. */
  readyCount(): number {
    let count = 0
    for (const client of this.clients) if (client.status === 'ready') count++
    return count
  }

  /** Resolves true as soon as one connection is ready, false after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<boolean> {
    if (this.readyCount() > 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(() => {
        this.readyWaiters.delete(wake)
        resolve(false)
      }, timeoutMs)
      timer.unref?.()
      this.readyWaiters.add(wake)
    })
  }

  /** QUIT owned clients (bounded), then drop their sockets; clients we were given are left alone. */
  async close(timeoutMs: number): Promise<void> {
    for (const wake of this.readyWaiters) wake()
    this.readyWaiters.clear()
    if (!this.owned) return
    await Promise.all(
      this.clients.map(async (client) => {
        if (client.status === 'ready') {
          let timer: ReturnType<typeof setTimeout> | undefined
          await Promise.race([
            client.quit().catch(() => undefined),
            new Promise((resolve) => {
              timer = setTimeout(resolve, timeoutMs)
            }),
          ])
          clearTimeout(timer)
        }
        client.disconnect()
      }),
    )
  }
}
