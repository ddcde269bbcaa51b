import type { CacheClusterOptions } from '@strata-cache/tiered'
import { ConfigError } from './config-error.ts'
import { envText } from './env-readers.ts'

/**
 * `REDIS_CLUSTER_NODES`: seed nodes of a Redis Cluster, comma-separated, each `host:port` or a
 * `redis://` / `rediss://` URL. The first URL carrying a user or a password gives every node's
 * credentials (an app's ACL user), and a `rediss://` one turns TLS on. Unset: undefined.
 */
export function envRedisCluster(env: NodeJS.ProcessEnv): CacheClusterOptions | undefined {
  const value = envText(env, 'REDIS_CLUSTER_NODES')
  if (value === undefined) return undefined
  const nodes: { host: string; port: number }[] = []
  let username: string | undefined
  let password: string | undefined
  let tls = false
  for (const item of value.split(',').map((s) => s.trim())) {
    let parsed: URL
    try {
      parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(item) ? item : `redis://${item}`)
    } catch {
      throw new ConfigError(
        'REDIS_CLUSTER_NODES',
        `REDIS_CLUSTER_NODES: "${describe(item)}" is not host:port`,
      )
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
      throw new ConfigError(
        'REDIS_CLUSTER_NODES',
        `REDIS_CLUSTER_NODES: nodes are host:port, redis:// or rediss:// (got ${parsed.protocol}//)`,
      )
    }
    const port = Number(parsed.port || 6379)
    if (parsed.hostname === '' || !Number.isInteger(port)) {
      throw new ConfigError(
        'REDIS_CLUSTER_NODES',
        `REDIS_CLUSTER_NODES: "${describe(item)}" is not host:port`,
      )
    }
    nodes.push({ host: parsed.hostname, port })
    if (
      username === undefined &&
      password === undefined &&
      (parsed.username !== '' || parsed.password !== '')
    ) {
      username = parsed.username === '' ? undefined : decodeURIComponent(parsed.username)
      password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password)
    }
    if (parsed.protocol === 'rediss:') tls = true
  }
  const redisOptions = {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(tls ? { tls: {} } : {}),
  }
  return Object.keys(redisOptions).length === 0 ? { nodes } : { nodes, options: { redisOptions } }
}

/** The cluster's seed nodes for logs: `host:port,…`, no credentials. */
export function describeCluster(cluster: CacheClusterOptions): string {
  return cluster.nodes
    .map((node) => (typeof node === 'object' ? `${node.host}:${node.port}` : String(node)))
    .join(',')
}

/** An item as it may appear in an error: its credentials masked. */
function describe(item: string): string {
  return item.replace(/\/\/[^@/]*@/, '//***@')
}
