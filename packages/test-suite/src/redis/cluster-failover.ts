/**
 * Failing a Redis Cluster over in tests: which master serves a key, killing it (SIGKILL, by pid),
 * and waiting until a replica serves its slots. Needs a cluster started with `replicas` (see
 * startRedisCluster) and a short `nodeTimeoutMs`.
 */
import { sleep } from '../testing/wait.ts'
import type { RedisCluster } from './cluster.ts'
import { rawCommands } from './resp-client.ts'
import type { RedisServer } from './single-node.ts'

/** One node as CLUSTER NODES lists it. */
export interface ClusterNodeState {
  readonly id: string
  readonly port: number
  readonly role: 'master' | 'replica'
  /** Marked `fail` or `fail?` by the node we asked. */
  readonly failing: boolean
  /** The master's id, for a replica. */
  readonly masterId: string | undefined
  /** Slot ranges served, `[from, to]` inclusive (masters). */
  readonly slots: readonly (readonly [number, number])[]
}

/** One bulk-string reply (`$<len>\r\n<text>\r\n`) or simple reply of a command on a fresh connection. */
async function textReply(port: number, args: readonly string[], password?: string): Promise<string> {
  const commands = password === undefined ? [args] : [['AUTH', password], args]
  const raw = await rawCommands(
    port,
    commands,
    (text) => {
      const body = password === undefined ? text : text.slice(text.indexOf('\r\n') + 2)
      if (body.startsWith('-') || body.startsWith('+') || body.startsWith(':')) return body.includes('\r\n')
      if (!body.startsWith('$')) return false
      const end = body.indexOf('\r\n')
      return end !== -1 && body.length >= end + 2 + Number(body.slice(1, end)) + 2
    },
    2000,
  )
  const body = password === undefined ? raw : raw.slice(raw.indexOf('\r\n') + 2)
  if (!body.startsWith('$')) return body.slice(1, body.indexOf('\r\n'))
  const end = body.indexOf('\r\n')
  return body.slice(end + 2, end + 2 + Number(body.slice(1, end)))
}

/** The cluster as the node at `port` sees it (CLUSTER NODES). */
export async function clusterNodes(port: number): Promise<ClusterNodeState[]> {
  const text = await textReply(port, ['CLUSTER', 'NODES'])
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, masterId, , , , , ...slots] = line.trim().split(' ')
      const nodePort = Number(address!.split('@')[0]!.split(':').at(-1))
      return {
        id: id!,
        port: nodePort,
        role: flags!.includes('master') ? 'master' : 'replica',
        failing: /(^|,)fail\??(,|$)/.test(flags!),
        masterId: masterId === '-' ? undefined : masterId,
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [from, to] = s.split('-').map(Number)
            return [from!, to ?? from!] as const
          }),
      }
    })
}

/** The slot of `key`, as the node at `port` computes it. */
export async function clusterKeySlot(port: number, key: string): Promise<number> {
  return Number(await textReply(port, ['CLUSTER', 'KEYSLOT', key]))
}

/** A server of `cluster` that answers PING, to ask about the others. */
async function liveServer(cluster: RedisCluster, except?: RedisServer): Promise<RedisServer> {
  for (const server of cluster.servers) {
    if (server === except || server.pid === undefined) continue
    if (await server.ping(500)) return server
  }
  throw new Error('no node of the cluster answers')
}

/** The server that serves `key`'s slot as a master now (as a live node sees the cluster). */
export async function masterOf(cluster: RedisCluster, key: string): Promise<RedisServer> {
  const asked = await liveServer(cluster)
  const slot = await clusterKeySlot(asked.port, key)
  const owner = (await clusterNodes(asked.port)).find(
    (n) => n.role === 'master' && !n.failing && n.slots.some(([from, to]) => slot >= from && slot <= to),
  )
  const server = cluster.servers.find((s) => s.port === owner?.port)
  if (server === undefined) throw new Error(`no live master serves slot ${slot} of "${key}"`)
  return server
}

/**
 * After `dead` was killed: resolves once every running node says `cluster_state:ok` and another master
 * serves the slots `dead` served (its replica, promoted), with that server and how long it took from
 * the call. Rejects after `timeoutMs`.
 */
export async function waitForClusterFailover(
  cluster: RedisCluster,
  dead: RedisServer,
  slots: readonly (readonly [number, number])[],
  timeoutMs = 20_000,
): Promise<{ promoted: RedisServer; ms: number }> {
  const started = Date.now()
  for (;;) {
    const asked = await liveServer(cluster, dead).catch(() => undefined)
    if (asked !== undefined) {
      const nodes = await clusterNodes(asked.port).catch(() => [])
      const owner = nodes.find(
        (n) =>
          n.role === 'master' &&
          n.port !== dead.port &&
          !n.failing &&
          slots.every(([from, to]) => n.slots.some(([a, b]) => a <= from && to <= b)),
      )
      const promoted = cluster.servers.find((s) => s.port === owner?.port)
      if (promoted !== undefined && (await allOk(cluster, dead)))
        return { promoted, ms: Date.now() - started }
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(`no replica took over the slots of port ${dead.port} within ${timeoutMs} ms`)
    }
    await sleep(50)
  }
}

async function allOk(cluster: RedisCluster, dead: RedisServer): Promise<boolean> {
  for (const server of cluster.servers) {
    // Killed ones (this and earlier failovers) have no pid.
    if (server === dead || server.pid === undefined) continue
    const info = await textReply(server.port, ['CLUSTER', 'INFO']).catch(() => '')
    if (!info.includes('cluster_state:ok')) return false
  }
  return true
}

/**
 * SIGKILLs the master serving `key` and returns it with the slots it served, for
 * {@link waitForClusterFailover}. The killed server stays down (its replica is promoted); the
 * cluster's `stop()` still cleans it up.
 */
export async function killMasterOf(
  cluster: RedisCluster,
  key: string,
): Promise<{ killed: RedisServer; slots: readonly (readonly [number, number])[] }> {
  const killed = await masterOf(cluster, key)
  const asked = await liveServer(cluster, killed)
  const slots = (await clusterNodes(asked.port)).find((n) => n.port === killed.port)?.slots ?? []
  await killed.kill()
  return { killed, slots }
}
