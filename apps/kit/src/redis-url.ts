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

/** The Redis URL with its password masked, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparseable url)'
  }
}
