import { ConfigError } from './config-error.ts'
import { envText } from './env-readers.ts'

/** `REDIS_URL`: a `redis://` or `rediss://` URL with a host; unset: undefined (memory-only cache). */
export function envRedisUrl(env: NodeJS.ProcessEnv): string | undefined {
  const value = envText(env, 'REDIS_URL')
  if (value === undefined) return undefined
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    throw new ConfigError(
      'REDIS_URL',
      `REDIS_URL=${JSON.stringify(redactUrl(value))} is not a URL (expected redis://[:password@]host:port[/db])`,
    )
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(
      'REDIS_URL',
      `REDIS_URL must start with redis:// or rediss://, got ${parsed.protocol}//`,
    )
  }
  if (parsed.hostname === '') throw new ConfigError('REDIS_URL', 'REDIS_URL has no host')
  return value
}

// Query parameters that carry a secret (ioredis reads options such as `?password=` from the URL).
const SECRET_PARAM = /pass|secret|token|auth|key/i

/**
 * The Redis URL with its secrets masked, for logs: the password; the user name when it stands
 * alone (`redis://<token>@host`: ioredis sends it as the password); query parameters such as
 * `?password=`. A user name next to a password (an ACL user) is kept: it says who connects.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    else if (parsed.username !== '') parsed.username = '***'
    for (const name of [...parsed.searchParams.keys()]) {
      if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, '***')
    }
    // URLSearchParams encodes '*' as %2A: keep the mask readable.
    return parsed.toString().replaceAll('%2A%2A%2A', '***')
  } catch {
    return '(unparseable url)'
  }
}
