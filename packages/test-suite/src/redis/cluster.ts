/**
 * A Redis Cluster for tests: `masters` redis-server processes (and `replicas` per master) on free
 * loopback ports, joined by `redis-cli --cluster create`. REDIS_CLUSTER_NODES=host:port,host:port,...
 * points at an existing cluster instead. See cluster-failover.ts for killing a master and waiting
 * for its replica to take over.
 */
import { execFile } from 'node:child_process'
import { freePort, LOOPBACK as HOST } from '../testing/free-port.ts'
import { sleep } from '../testing/wait.ts'
import { rawCommands } from './resp-client.ts'
import { type OwnedRedisServer, type RedisServer, startOwned } from './single-node.ts'

const REDIS_CLI_BIN = process.env.REDIS_CLI_BIN ?? 'redis-cli'

export interface RedisClusterNode {
  host: string
  port: number
}

export interface RedisClusterOptions {
  /** Number of masters. @default 3 */
  masters?: number
  /** Replicas per master (`--cluster-replicas`); with them a killed master fails over. @default 0 */
  replicas?: number
  /** `cluster-node-timeout`, ms: how long a master may be unreachable before it is failed over. @default 2000 */
  nodeTimeoutMs?: number
  /** How long to wait for `cluster_state:ok`. @default 20000 */
  startTimeoutMs?: number
}

export interface RedisCluster {
  /** Seed nodes for ioredis `new Cluster(nodes)`. */
  readonly nodes: readonly RedisClusterNode[]
  /** The servers in start order (empty for an external cluster); redis-cli makes the first `masters` of them masters. */
  readonly servers: readonly RedisServer[]
  /** `cluster-node-timeout` of the servers we started, ms (undefined for an external cluster). */
  readonly nodeTimeoutMs: number | undefined
  readonly external: boolean
  stop(): Promise<void>
}

function runRedisCli(args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(REDIS_CLI_BIN, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli ${args.join(' ')} failed: ${error.message} ${stderr}`))
      else resolve(stdout)
    })
  })
}

async function clusterStateOk(port: number): Promise<boolean> {
  try {
    const reply = await rawCommands(
      port,
      [['CLUSTER', 'INFO']],
      (t) => t.includes('cluster_stats_messages') || t.startsWith('-'),
      1000,
    )
    return reply.includes('cluster_state:ok')
  } catch {
    return false
  }
}

/** True once `count` of the servers are replicas whose link to their master is up (the first sync done). */
async function replicasInSync(servers: readonly OwnedRedisServer[], count: number): Promise<boolean> {
  let synced = 0
  for (const server of servers) {
    const info = await rawCommands(
      server.port,
      [['INFO', 'replication']],
      (t) => t.includes('repl_backlog') || t.startsWith('-'),
      1000,
    ).catch(() => '')
    if (info.includes('role:slave') && info.includes('master_link_status:up')) synced++
  }
  return synced >= count
}

/**
 * Starts a Redis Cluster of `masters` (default 3) nodes, each with `replicas` (default 0), on free
 * loopback ports, joins them with `redis-cli --cluster create`, and resolves once every node says
 * cluster_state:ok and every replica has synced with its master.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const envNodes = process.env.REDIS_CLUSTER_NODES
  if (envNodes) {
    const nodes = envNodes.split(',').map((pair) => {
      const [host, port] = pair.trim().split(':')
      return { host: host || HOST, port: Number(port) }
    })
    return { nodes, servers: [], external: true, nodeTimeoutMs: undefined, stop: async () => {} }
  }
  const masters = options.masters ?? 3
  const replicas = options.replicas ?? 0
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2000
  const startTimeoutMs = options.startTimeoutMs ?? 20_000
  const servers: OwnedRedisServer[] = []
  const stopAll = async () => {
    await Promise.all(servers.map((server) => server.stop()))
  }
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      // The bus port defaults to port + 10000, which may be taken or out of range: pick it explicitly.
      const busPort = await freePort()
      const server = await startOwned(
        undefined,
        [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          String(nodeTimeoutMs),
          '--cluster-port',
          String(busPort),
        ],
        10_000,
      )
      servers.push(server)
    }
    await runRedisCli(
      [
        '--cluster',
        'create',
        ...servers.map((s) => `${HOST}:${s.port}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ],
      startTimeoutMs,
    )
    const deadline = Date.now() + startTimeoutMs
    for (;;) {
      const states = await Promise.all(servers.map((s) => clusterStateOk(s.port)))
      if (states.every(Boolean) && (replicas === 0 || (await replicasInSync(servers, masters * replicas))))
        break
      if (Date.now() > deadline)
        throw new Error(`cluster did not reach cluster_state:ok within ${startTimeoutMs} ms`)
      await sleep(100)
    }
  } catch (error) {
    await stopAll()
    throw error
  }
  return {
    nodes: servers.map((s) => ({ host: HOST, port: s.port })),
    servers,
    external: false,
    nodeTimeoutMs,
    stop: stopAll,
  }
}
