import { describe, expect, it } from 'vitest'
import { ConfigError, envBoolean, envDuration, loadBaseConfig, redactUrl } from '../src/index.ts'

const DEFAULTS = { port: 3999, databasePath: './data/kit.db' }

function configError(read: () => unknown): ConfigError {
  try {
    read()
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadBaseConfig', () => {
  it('uses the app defaults when nothing is set, and blank counts as unset', () => {
    expect(loadBaseConfig({ HOST: '  ', CACHE_ADMIN_TOKEN: '' }, DEFAULTS)).toEqual({
      port: 3999,
      host: '127.0.0.1',
      redisUrl: undefined,
      databasePath: './data/kit.db',
      adminToken: undefined,
      logLevel: 'info',
    })
  })

  it('reads every shared variable, trimmed', () => {
    const config = loadBaseConfig(
      {
        PORT: ' 8080 ',
        HOST: '0.0.0.0',
        REDIS_URL: 'rediss://:pw@redis.internal:6380/2',
        DATABASE_PATH: '/data/x.db',
        CACHE_ADMIN_TOKEN: 'secret',
        LOG_LEVEL: 'warn',
      },
      DEFAULTS,
    )
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      redisUrl: 'rediss://:pw@redis.internal:6380/2',
      databasePath: '/data/x.db',
      adminToken: 'secret',
      logLevel: 'warn',
    })
  })

  it('names the first bad variable, in the order PORT, REDIS_URL, LOG_LEVEL', () => {
    const both = configError(() => loadBaseConfig({ PORT: '70000', LOG_LEVEL: 'loud' }, DEFAULTS))
    expect(both.variable).toBe('PORT')
    expect(both.message).toBe('PORT="70000" must be an integer from 0 to 65535')
    const level = configError(() => loadBaseConfig({ LOG_LEVEL: 'loud' }, DEFAULTS))
    expect(level.variable).toBe('LOG_LEVEL')
    expect(level.message).toContain('must be one of fatal, error, warn, info, debug, trace, silent')
  })

  it('rejects a REDIS_URL that is not redis, without printing its password', () => {
    expect(configError(() => loadBaseConfig({ REDIS_URL: 'http://x:6379' }, DEFAULTS)).message).toBe(
      'REDIS_URL must start with redis:// or rediss://, got http://',
    )
    expect(configError(() => loadBaseConfig({ REDIS_URL: 'redis://' }, DEFAULTS)).message).toBe(
      'REDIS_URL has no host',
    )
    const unparseable = configError(() => loadBaseConfig({ REDIS_URL: 'not a url' }, DEFAULTS))
    expect(unparseable.variable).toBe('REDIS_URL')
    expect(unparseable.message).toContain('is not a URL')
  })
})

describe('env readers', () => {
  it('reads durations as text or plain milliseconds', () => {
    expect(envDuration({}, 'TTL', '5m')).toBe(300_000)
    expect(envDuration({ TTL: '250' }, 'TTL', '5m')).toBe(250)
    expect(envDuration({ TTL: '2h' }, 'TTL', '5m')).toBe(7_200_000)
    expect(configError(() => envDuration({ TTL: '5 minutes' }, 'TTL', '5m')).message).toBe(
      `TTL="5 minutes" is not a duration (use milliseconds, or '250ms', '5s', '5m', '1h', '1d')`,
    )
  })

  it('reads booleans in the usual spellings and rejects anything else', () => {
    expect(envBoolean({ FLAG: 'YES' }, 'FLAG', false)).toBe(true)
    expect(envBoolean({ FLAG: '0' }, 'FLAG', true)).toBe(false)
    expect(envBoolean({}, 'FLAG', true)).toBe(true)
    expect(configError(() => envBoolean({ FLAG: 'maybe' }, 'FLAG', false)).message).toBe(
      'FLAG="maybe" must be true or false',
    )
  })

  it('masks the password of a URL for logs', () => {
    expect(redactUrl('redis://:secret@127.0.0.1:6379')).toBe('redis://:***@127.0.0.1:6379')
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379')
    expect(redactUrl('::')).toBe('(unparseable url)')
  })
})
