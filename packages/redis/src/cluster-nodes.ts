import type { Cluster, Redis } from 'ioredis'
import { loadScriptsOnReady } from './fence-scripts.ts'

/**
 * Connects to each node of a Cluster as soon as the client learns of it, and loads the store's
 * scripts on each (re)connection. ioredis connects to a node lazily, on its first command, which then
 * pays the TCP (and TLS) handshake and a ready check on top of its own work, inside its deadline; the
 * first write after a start or a failover would miss it, and meet NOSCRIPT (an EVAL retry) too.
 */
export function warmClusterNodes(cluster: Cluster): void {
  cluster.on('+node', (node: Redis) => {
    loadScriptsOnReady(node)
    node.connect().catch(() => {})
  })
}
