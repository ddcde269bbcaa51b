import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'

/** The ACL users of deploy/redis/redis-acl.sh, one per app. */
export type AclUser = 'thermal' | 'device-info' | 'analytics'

const SCRIPT = new URL('../../../../deploy/redis/redis-acl.sh', import.meta.url).pathname

/** Test passwords: 40 characters each, so the script's checks pass. */
export const ACL_PASSWORDS = {
  REDIS_PASSWORD: 'operator-password-0123456789abcdef0123456',
  THERMAL_REDIS_PASSWORD: 'thermal-password-0123456789abcdef012345678',
  DEVICE_INFO_REDIS_PASSWORD: 'device-info-password-0123456789abcdef01234',
  ANALYTICS_REDIS_PASSWORD: 'analytics-password-0123456789abcdef0123456',
} as const

const PASSWORD_OF: Record<AclUser, string> = {
  thermal: ACL_PASSWORDS.THERMAL_REDIS_PASSWORD,
  'device-info': ACL_PASSWORDS.DEVICE_INFO_REDIS_PASSWORD,
  analytics: ACL_PASSWORDS.ANALYTICS_REDIS_PASSWORD,
}

/** A redis-server running the deploy files' ACL: its `url` is the operator's (user "default"). */
export interface AclRedis {
  server: RedisServer
  /** The ACL file the deploy script printed. */
  acl: string
  /** `redis://<user>:<password>@127.0.0.1:<port>`, as an app's REDIS_URL names its user. */
  urlFor(user: AclUser): string
  stop(): Promise<void>
}

/**
 * Runs `deploy/redis/redis-acl.sh` with {@link ACL_PASSWORDS} and starts a redis-server of our own
 * with the ACL it prints (`--aclfile`), on a free loopback port: the apps' tests then run against
 * the same users, keys, channels and commands a deployment gives them.
 */
export async function startAclRedis(args: readonly string[] = []): Promise<AclRedis> {
  const acl = execFileSync('sh', [SCRIPT], {
    env: { PATH: process.env.PATH ?? '', ...ACL_PASSWORDS },
    encoding: 'utf8',
  })
  const dir = mkdtempSync(join(tmpdir(), 'strata-acl-'))
  const file = join(dir, 'users.acl')
  writeFileSync(file, acl, { mode: 0o600 })
  const server = await startRedisServer({
    ownServer: true,
    password: ACL_PASSWORDS.REDIS_PASSWORD,
    args: ['--aclfile', file, ...args],
  })
  return {
    server,
    acl,
    urlFor: (user) => `redis://${user}:${PASSWORD_OF[user]}@${server.host}:${server.port}`,
    async stop() {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
