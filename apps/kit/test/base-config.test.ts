import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  envBoolean,
  envDuration,
  loadBaseConfig,
  PLACEHOLDER_TOKENS,
  redactUrl,
} from '../src/index.ts'

const DEFAULTS = { port: 3999, databasePath: './data/kit.db' }
const TOKEN = 'a-token-of-forty-characters-0123456789ab'
const HTTP_DEFAULTS = {
  trustProxy: 0,
  rateLimit: { max: 600, windowMs: 60_000 },
  adminRateLimit: { max: 10, windowMs: 60_000 },
}

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
      busSecret: undefined,
      logLevel: 'info',
      http: HTTP_DEFAULTS,
      errorLogIntervalMs: 10_000,
    })
  })

  it('reads every shared variable, trimmed', () => {
    const config = loadBaseConfig(
      {
        PORT: ' 8080 ',
        HOST: '0.0.0.0',
        REDIS_URL: 'rediss://:pw@redis.internal:6380/2',
        DATABASE_PATH: '/data/x.db',
        CACHE_ADMIN_TOKEN: ` ${TOKEN} `,
        CACHE_BUS_SECRET: `${TOKEN}-new, ${TOKEN}-old`,
        LOG_LEVEL: 'warn',
        TRUST_PROXY: '1',
        RATE_LIMIT_MAX: '100',
        RATE_LIMIT_WINDOW: '10s',
        ADMIN_RATE_LIMIT_MAX: '3',
        ADMIN_RATE_LIMIT_WINDOW: '1h',
        ERROR_LOG_INTERVAL: '30s',
      },
      DEFAULTS,
    )
    expect(config).toEqual({
      port: 8080,
      host: '0.0.0.0',
      redisUrl: 'rediss://:pw@redis.internal:6380/2',
      databasePath: '/data/x.db',
      adminToken: TOKEN,
      busSecret: [`${TOKEN}-new`, `${TOKEN}-old`],
      logLevel: 'warn',
      http: {
        trustProxy: 1,
        rateLimit: { max: 100, windowMs: 10_000 },
        adminRateLimit: { max: 3, windowMs: 3_600_000 },
      },
      errorLogIntervalMs: 30_000,
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

  it('refuses an admin token shorter than 32 characters or equal to a placeholder, never printing it', () => {
    const short = configError(() => loadBaseConfig({ CACHE_ADMIN_TOKEN: 'hunter2-hunter2' }, DEFAULTS))
    expect(short.variable).toBe('CACHE_ADMIN_TOKEN')
    expect(short.message).toBe(
      'CACHE_ADMIN_TOKEN is 15 characters long, fewer than 32: set a secret of your own, e.g. the output of `openssl rand -hex 32`',
    )
    expect(short.message).not.toContain('hunter2')
    for (const placeholder of PLACEHOLDER_TOKENS) {
      const error = configError(() =>
        loadBaseConfig({ CACHE_ADMIN_TOKEN: placeholder.toUpperCase() }, DEFAULTS),
      )
      expect(error.message).toContain('is the placeholder')
    }
    // The long placeholder of deploy/ passes the length rule: only the placeholder rule stops it.
    expect(PLACEHOLDER_TOKENS.some((p) => p.length >= 32)).toBe(true)
    expect(
      configError(() => loadBaseConfig({ CACHE_ADMIN_TOKEN: `${TOKEN} x` }, DEFAULTS)).message,
    ).toContain('must not contain whitespace')
    expect(loadBaseConfig({ CACHE_ADMIN_TOKEN: TOKEN.slice(0, 32) }, DEFAULTS).adminToken).toHaveLength(32)
  })

  it('holds every bus secret to the same rule, naming CACHE_BUS_SECRET', () => {
    const weak = configError(() => loadBaseConfig({ CACHE_BUS_SECRET: `${TOKEN},short-one` }, DEFAULTS))
    expect(weak.variable).toBe('CACHE_BUS_SECRET')
    expect(weak.message).toContain('CACHE_BUS_SECRET is 9 characters long, fewer than 32')
    expect(
      configError(() => loadBaseConfig({ CACHE_BUS_SECRET: PLACEHOLDER_TOKENS.at(-1) }, DEFAULTS)).message,
    ).toContain('is the placeholder')
  })

  it('names a bad rate limit or proxy setting', () => {
    expect(configError(() => loadBaseConfig({ RATE_LIMIT_MAX: 'lots' }, DEFAULTS)).message).toBe(
      'RATE_LIMIT_MAX="lots" must be an integer from 0 to 1000000',
    )
    expect(configError(() => loadBaseConfig({ ADMIN_RATE_LIMIT_WINDOW: 'hourly' }, DEFAULTS)).variable).toBe(
      'ADMIN_RATE_LIMIT_WINDOW',
    )
    expect(configError(() => loadBaseConfig({ TRUST_PROXY: 'yes' }, DEFAULTS)).variable).toBe('TRUST_PROXY')
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

  it('masks the secrets of a URL for logs: password, a lone user name, secret query parameters', () => {
    expect(redactUrl('redis://:secret@127.0.0.1:6379')).toBe('redis://:***@127.0.0.1:6379')
    expect(redactUrl('redis://tok3n@127.0.0.1:6379')).toBe('redis://***@127.0.0.1:6379')
    expect(redactUrl('rediss://thermal:pw@redis:6380/0')).toBe('rediss://thermal:***@redis:6380/0')
    expect(redactUrl('redis://redis:6379/?password=pw&db=2')).toBe('redis://redis:6379/?password=***&db=2')
    expect(redactUrl('redis://redis:6379?username=u&token=t&authPass=a')).toBe(
      'redis://redis:6379?username=u&token=***&authPass=***',
    )
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379')
    expect(redactUrl('::')).toBe('(unparseable url)')
  })
})
