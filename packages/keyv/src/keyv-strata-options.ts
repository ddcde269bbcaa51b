import { type Cache, CacheOptionError, type Duration, isValidKey, parseDuration } from '@strata-cache/core'
import { assertKnownOptions } from '@strata-cache/core/internal'

/**
 * What the adapter needs of a Strata `Cache`: any `Cache` (memory only, or `createCache({ redisUrl })`)
 * has it. `setMany` and `deleteMany` make one batch; a wrapper without them gets one call per key.
 */
export type KeyvStrataCache = Pick<Cache, 'get' | 'getMany' | 'set' | 'delete' | 'invalidate' | 'close'> & {
  /** Writes many entries in one batch where the store can. */
  setMany?(entries: readonly { key: string; value: unknown; ttl?: Duration }[]): Promise<void>
  /** Removes many keys in one batch where the store can; resolves how many were there. */
  deleteMany?(keys: readonly string[]): Promise<number>
}

/** Options of `new KeyvStrata(cache, options)`. */
export interface KeyvStrataOptions {
  /**
   * Put before every key the adapter writes: key characters (`A-Z a-z 0-9 : _ - .`) ending with `:`,
   * at most 64. Keyv's `clear()` removes only its namespace under this prefix.
   * @default 'keyv:'
   */
  prefix?: string
  /**
   * How long a value that Keyv sets without a TTL stays in the Cache (Keyv's "forever": Strata keeps
   * nothing forever).
   * @default the Cache's `defaultTtl`
   */
  defaultTtl?: Duration
  /** Close the Cache on Keyv's `disconnect()` (cache-manager's too); `false` when other code shares it. @default true */
  closeOnDisconnect?: boolean
}

/** The options, checked once in the constructor. */
export interface ResolvedKeyvStrataOptions {
  readonly prefix: string
  readonly defaultTtlMs: number | undefined
  readonly closeOnDisconnect: boolean
}

const KNOWN_OPTIONS = ['prefix', 'defaultTtl', 'closeOnDisconnect'] as const
const MAX_PREFIX_LENGTH = 64

/** Checks the cache and the options; throws a CacheOptionError naming what is wrong. */
export function resolveKeyvStrataOptions(
  cache: KeyvStrataCache,
  options: KeyvStrataOptions,
): ResolvedKeyvStrataOptions {
  if (typeof cache?.get !== 'function' || typeof cache.invalidate !== 'function') {
    throw new CacheOptionError(
      'KeyvStrata: the first argument must be a Strata Cache (new Cache({ store }) or createCache())',
    )
  }
  assertKnownOptions('KeyvStrata', options, KNOWN_OPTIONS)
  const prefix = options.prefix ?? 'keyv:'
  if (!isValidKey(prefix) || !prefix.endsWith(':') || prefix.length > MAX_PREFIX_LENGTH) {
    throw new CacheOptionError(
      `KeyvStrata: option "prefix" = ${JSON.stringify(prefix)} must be 1 to ${MAX_PREFIX_LENGTH} key characters (A-Z a-z 0-9 : _ - .) ending with ":"`,
      { option: 'prefix' },
    )
  }
  const defaultTtlMs =
    options.defaultTtl === undefined ? undefined : parseDuration(options.defaultTtl, 'defaultTtl')
  if (defaultTtlMs === 0) {
    throw new CacheOptionError('KeyvStrata: option "defaultTtl" must be longer than 0', {
      option: 'defaultTtl',
    })
  }
  const closeOnDisconnect = options.closeOnDisconnect ?? true
  if (typeof closeOnDisconnect !== 'boolean') {
    throw new CacheOptionError('KeyvStrata: option "closeOnDisconnect" must be a boolean', {
      option: 'closeOnDisconnect',
    })
  }
  return { prefix, defaultTtlMs, closeOnDisconnect }
}
