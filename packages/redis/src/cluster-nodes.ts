import type { Cluster, Redis } from 'ioredis'
import { CLUSTER_SCRIPTS } from './cluster-fence-scripts.ts'
import { loadScriptsOnReady } from './fence-scripts.ts'

/**
 * Connects to each node of a Cluster once the client is ready (and to a node it learns of later),
 * and loads the store's scripts on each (re)connection. ioredis connects to a node lazily, on its
 * first command, which then pays the TCP (and TLS) handshake and a ready check on top of its own
 * work, inside its deadline; the first write after a start or a failover would miss it, and meet
 * NOSCRIPT (an EVAL retry) too.
 */
export function warmClusterNodes(cluster: Cluster): void {
  cluster.on('+node', (node: Redis) => {
    loadScriptsOnReady(node)
    node.on('ready', () => {
      for (const { text } of [CLUSTER_SCRIPTS.set, CLUSTER_SCRIPTS.fill])
        node.script('LOAD', text).catch(() => {})
    })
  })
  connectNodesWhenReady(cluster)
}

/**
 * Connects each node of a Cluster client once the client is ready, and a node it learns of later at
 * once, instead of on the node's first command. Not before the client is ready: connecting a node
 * while ioredis itself connects to it made the client drop and redo its first connection (10 of 30
 * fresh clients, within ~7 ms of connecting), so a store that was ready briefly had no connection.
 */
export function connectNodesWhenReady(cluster: Cluster): void {
  cluster.on('+node', (node: Redis) => {
    if (cluster.status === 'ready') connectIdle(node)
  })
  cluster.on('ready', () => {
    for (const node of cluster.nodes('all')) connectIdle(node)
  })
}

/** Connects a node ioredis has not connected yet (status `wait`: lazily, on its first command). */
function connectIdle(node: Redis): void {
  if (node.status === 'wait') node.connect().catch(() => {})
}

/** Errors after which a Cluster client's slot map may be out of date. */
const SLOT_ERRORS =
  /^(MOVED|ASK|CLUSTERDOWN|TRYAGAIN)\b|Connection is closed|ECONNREFUSED|ECONNRESET|isn't ready/
/** At most one slot-map refresh per client this often, ms: a failover fails many commands at once. */
const REFRESH_EVERY_MS = 100
const lastRefresh = new WeakMap<Cluster, number>()

/**
 * After a command failed on a Cluster with MOVED, ASK, CLUSTERDOWN, TRYAGAIN or a lost connection:
 * asks for the slot map again (throttled). ioredis follows a MOVED by itself for a lone command, but
 * not for commands auto-pipelined together that failed with different redirections (an MGET per
 * slot, or many callers' commands to one node): those fail with the MOVED error and the map stays
 * as it was, so after a failover the store would keep asking a node that no longer owns the slots.
 */
export function refreshOnSlotError(cluster: Cluster, error: unknown): void {
  if (!SLOT_ERRORS.test(error instanceof Error ? error.message : String(error))) return
  const now = performance.now()
  if (now - (lastRefresh.get(cluster) ?? Number.NEGATIVE_INFINITY) < REFRESH_EVERY_MS) return
  lastRefresh.set(cluster, now)
  cluster.refreshSlotsCache(() => {})
}
