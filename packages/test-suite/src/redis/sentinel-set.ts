/**
 * A Sentinel set for failover tests: one master, `replicas` replicas and `sentinels` sentinels
 * (quorum: a majority) on free loopback ports, with a short `down-after-milliseconds`, each process
 * stopped by pid. Kill the master (`master.kill()`) and `waitForFailover` until the sentinels name a
 * promoted replica.
 */
import { sleep } from '../testing/wait.ts'
import { rawCommands } from './resp-client.ts'
import { type OwnedRedisServer, type RedisServer, startOwned } from './single-node.ts'

export interface RedisSentinelSetOptions {
  /** Master group name. @default 'mymaster' */
  name?: string
  /** Sentinels (quorum: a majority of them). @default 3 */
  sentinels?: number
  /** Replicas of the master. @default 1 */
  replicas?: number
  /** `requirepass` of the master and replicas (and `masterauth`, and the sentinels' `auth-pass`). @default none */
  password?: string
  /** `sentinel down-after-milliseconds`: how long the master may be unreachable. @default 1000 */
  downAfterMs?: number
  /** How long to wait for replicas to sync and sentinels to find each other. @default 20000 */
  startTimeoutMs?: number
}

export interface RedisSentinelSet {
  readonly name: string
  /** The master at start (after a failover, a replica). */
  readonly master: RedisServer
  readonly replicas: readonly RedisServer[]
  readonly sentinels: readonly RedisServer[]
  /** `{ host, port }` of each sentinel, for ioredis `sentinels`. */
  readonly sentinelAddresses: readonly { host: string; port: number }[]
  readonly password: string | undefined
  /** `sentinel down-after-milliseconds`, ms. */
  readonly downAfterMs: number
  /** The master's address as the first answering sentinel names it. */
  currentMaster(): Promise<{ host: string; port: number }>
  /**
   * After `from` was killed: resolves once the sentinels name another server as master and it
   * answers as one, with that server and how long it took from the call. Rejects after `timeoutMs`.
   */
  waitForFailover(from: RedisServer, timeoutMs?: number): Promise<{ promoted: RedisServer; ms: number }>
  /** Stops every process (sentinels first). */
  stop(): Promise<void>
}

/** The `field:value` of INFO text. */
function infoField(text: string, field: string): string | undefined {
  return new RegExp(`${field}:([^\\r\\n]*)`).exec(text)?.[1]
}

async function info(server: RedisServer, section: string, password?: string): Promise<string> {
  const commands =
    password === undefined
      ? [['INFO', section]]
      : [
          ['AUTH', password],
          ['INFO', section],
        ]
  return rawCommands(server.port, commands, (t) => /\r\n\r\n$/.test(t) || t.includes('-ERR'), 1000).catch(
    () => '',
  )
}

/** Starts the set and resolves once the replicas have synced and every sentinel knows every other one and the replicas. */
export async function startRedisSentinelSet(
  options: RedisSentinelSetOptions = {},
): Promise<RedisSentinelSet> {
  const name = options.name ?? 'mymaster'
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`startRedisSentinelSet: invalid master name "${name}"`)
  const sentinelCount = options.sentinels ?? 3
  const replicaCount = options.replicas ?? 1
  const downAfterMs = options.downAfterMs ?? 1000
  const startTimeoutMs = options.startTimeoutMs ?? 20_000
  const { password } = options
  const auth = password === undefined ? [] : ['--masterauth', password]
  const started: OwnedRedisServer[] = []
  const sentinels: OwnedRedisServer[] = []
  const stop = async () => {
    await Promise.all(sentinels.map((s) => s.stop()))
    await Promise.all(started.map((s) => s.stop()))
  }
  try {
    const master = await startOwned(password, auth, 10_000)
    started.push(master)
    for (let i = 0; i < replicaCount; i++)
      started.push(
        await startOwned(password, [...auth, '--replicaof', master.host, String(master.port)], 10_000),
      )
    const quorum = Math.floor(sentinelCount / 2) + 1
    const config = [
      `sentinel monitor ${name} ${master.host} ${master.port} ${quorum}`,
      `sentinel down-after-milliseconds ${name} ${downAfterMs}`,
      `sentinel failover-timeout ${name} ${Math.max(downAfterMs * 3, 3000)}`,
      `sentinel parallel-syncs ${name} 1`,
      ...(password === undefined ? [] : [`sentinel auth-pass ${name} ${password}`]),
    ]
    for (let i = 0; i < sentinelCount; i++)
      sentinels.push(await startOwned(undefined, ['--sentinel'], 10_000, `${config.join('\n')}\n`))
    const deadline = Date.now() + startTimeoutMs
    for (;;) {
      const synced = await Promise.all(
        started
          .slice(1)
          .map(async (r) => infoField(await info(r, 'replication', password), 'master_link_status')),
      )
      const seen = await Promise.all(sentinels.map((s) => info(s, 'sentinel')))
      const ready = seen.every((text) =>
        new RegExp(
          `name=${name},status=ok,address=[^,]+,slaves=${replicaCount},sentinels=${sentinelCount}`,
        ).test(text),
      )
      if (synced.every((s) => s === 'up') && ready) break
      if (Date.now() > deadline) throw new Error(`sentinel set not ready within ${startTimeoutMs} ms`)
      await sleep(100)
    }
    const set: RedisSentinelSet = {
      name,
      master,
      replicas: started.slice(1),
      sentinels,
      sentinelAddresses: sentinels.map((s) => ({ host: s.host, port: s.port })),
      password,
      downAfterMs,
      async currentMaster() {
        for (const sentinel of sentinels) {
          if (sentinel.pid === undefined) continue
          const text = await info(sentinel, 'sentinel')
          const address = new RegExp(`name=${name},status=[^,]+,address=([^,]+)`).exec(text)?.[1]
          if (address === undefined) continue
          const at = address.lastIndexOf(':')
          return { host: address.slice(0, at), port: Number(address.slice(at + 1)) }
        }
        throw new Error('no sentinel answers')
      },
      async waitForFailover(from, timeoutMs = 30_000) {
        const began = Date.now()
        for (;;) {
          const now = await set.currentMaster().catch(() => undefined)
          const promoted = started.find((s) => s.port === now?.port && s !== from)
          if (
            promoted !== undefined &&
            infoField(await info(promoted, 'replication', password), 'role') === 'master'
          )
            return { promoted, ms: Date.now() - began }
          if (Date.now() - began > timeoutMs)
            throw new Error(`the sentinels did not promote a replica within ${timeoutMs} ms`)
          await sleep(50)
        }
      },
      stop,
    }
    return set
  } catch (error) {
    await stop()
    throw error
  }
}
