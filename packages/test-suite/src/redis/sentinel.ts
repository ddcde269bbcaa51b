/** One Redis Sentinel for tests, monitoring a master we started. */
import { type RedisServer, startOwned } from './single-node.ts'

export interface RedisSentinelOptions {
  /** Master group name. @default 'mymaster' */
  name?: string
  /** How long to wait for the sentinel to answer PING. @default 10000 */
  startTimeoutMs?: number
}

/**
 * Starts one Redis Sentinel (`redis-server <conf> --sentinel`) on a free loopback port, monitoring
 * `master` under `name` (quorum 1). The returned server's `port` is the sentinel's; stop it by `stop()`.
 */
export async function startRedisSentinel(
  master: Pick<RedisServer, 'host' | 'port' | 'password'>,
  options: RedisSentinelOptions = {},
): Promise<RedisServer & { readonly name: string }> {
  const name = options.name ?? 'mymaster'
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`startRedisSentinel: invalid master name "${name}"`)
  const lines = [
    `sentinel monitor ${name} ${master.host} ${master.port} 1`,
    `sentinel down-after-milliseconds ${name} 1000`,
    ...(master.password === undefined ? [] : [`sentinel auth-pass ${name} ${master.password}`]),
  ]
  const server = await startOwned(
    undefined,
    ['--sentinel'],
    options.startTimeoutMs ?? 10_000,
    `${lines.join('\n')}\n`,
  )
  return Object.assign(server, { name })
}
