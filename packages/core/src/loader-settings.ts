import {
  type CacheDefaults,
  type GetOrSetOptions,
  resolveWriteSettings,
  type WriteSettings,
} from './cache-options.ts'
import { parseDuration } from './duration.ts'
import { CacheOptionError } from './errors.ts'
import { resolveRefreshAhead } from './refresh-policy.ts'

/** How one getOrSet call runs its loader: resolved once from the call's options and the Cache's defaults. */
export interface LoaderSettings extends WriteSettings {
  readonly softTimeoutMs: number | undefined
  readonly hardTimeoutMs: number | undefined
  readonly lock: boolean
}

/**
 * A getOrSet call's settings: each option falls back on the Cache's default (no options: the
 * defaults themselves). Throws for bad input, and for a softTimeout longer than the hardTimeout.
 */
export function resolveLoaderSettings(
  key: string,
  options: GetOrSetOptions | undefined,
  defaults: CacheDefaults,
): LoaderSettings {
  let settings: LoaderSettings = defaults
  if (options !== undefined) {
    const { ttlMs, graceMs, tags } = resolveWriteSettings(options, defaults)
    if (options.refreshAhead !== undefined) resolveRefreshAhead(options.refreshAhead, `getOrSet("${key}")`)
    const soft = options.softTimeout
    const hard = options.hardTimeout
    settings = {
      ttlMs,
      graceMs,
      tags,
      softTimeoutMs: soft === undefined ? defaults.softTimeoutMs : parseDuration(soft, 'softTimeout'),
      hardTimeoutMs: hard === undefined ? defaults.hardTimeoutMs : parseDuration(hard, 'hardTimeout'),
      lock: options.lock ?? defaults.lock,
    }
  }
  const { softTimeoutMs, hardTimeoutMs } = settings
  if (softTimeoutMs !== undefined && hardTimeoutMs !== undefined && softTimeoutMs > hardTimeoutMs) {
    throw new CacheOptionError(
      `getOrSet("${key}"): softTimeout (${softTimeoutMs} ms) is longer than hardTimeout (${hardTimeoutMs} ms)`,
      { key, option: 'softTimeout' },
    )
  }
  return settings
}
