import { CacheOptionError } from './errors.ts'

/**
 * When a hit near expiry starts a background reload (the caller gets the current value at once):
 * `xfetch` is probabilistic early expiration (Vattani et al., VLDB 2015): a hit at `now` reloads
 * when `now - delta × beta × ln(random()) >= expiresAt`, `delta` being how long the key's loader
 * took; `fraction` reloads on the first hit past that fraction of the TTL.
 */
export interface RefreshAheadOptions {
  /** `'fraction'` (a fixed share of the TTL) or `'xfetch'` (probabilistic, by the loader's duration). @default 'fraction' (`'xfetch'` when only `beta` is given) */
  strategy?: 'xfetch' | 'fraction'
  /** XFetch's β: above 1 reloads earlier, below 1 later. @default 1 */
  beta?: number
  /** With `strategy: 'fraction'`: reload on a hit past this share of the TTL, between 0 and 1. @default 0.8 */
  fraction?: number
}

/** A refreshAhead option resolved: how a hit decides. */
export interface RefreshPolicy {
  readonly strategy: 'xfetch' | 'fraction'
  readonly beta: number
  readonly fraction: number
}

const FIELDS = new Set(['strategy', 'beta', 'fraction'])

/**
 * What `refreshAhead: true` means: a fixed 0.8 of the TTL, chosen by `pnpm bench refresh-ahead`
 * (see the core README): no value served stale under hot or warm traffic for +10% loader calls,
 * where XFetch served warm keys stale and, with a loader taking 30% of the TTL, reloaded 3× per TTL.
 */
export const DEFAULT_REFRESH_POLICY: RefreshPolicy = Object.freeze({
  strategy: 'fraction',
  beta: 1,
  fraction: 0.8,
})

/** `refreshAhead` (of the Cache or a call) as a policy; undefined when off. Throws for bad input. */
export function resolveRefreshAhead(
  value: boolean | RefreshAheadOptions | undefined,
  where: string,
): RefreshPolicy | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return DEFAULT_REFRESH_POLICY
  const bad = (what: string) =>
    new CacheOptionError(`${where}: option "refreshAhead" ${what}`, { option: 'refreshAhead' })
  if (value === null || typeof value !== 'object')
    throw bad(`must be a boolean or an object, got ${String(value)}`)
  for (const field of Object.keys(value)) if (!FIELDS.has(field)) throw bad(`has an unknown field "${field}"`)
  const strategy = value.strategy ?? (value.beta !== undefined ? 'xfetch' : DEFAULT_REFRESH_POLICY.strategy)
  if (strategy !== 'xfetch' && strategy !== 'fraction')
    throw bad(`strategy must be 'xfetch' or 'fraction', got ${String(strategy)}`)
  const beta = value.beta ?? 1
  if (typeof beta !== 'number' || !(beta > 0) || !Number.isFinite(beta))
    throw bad(`beta must be a number above 0, got ${String(beta)}`)
  const fraction = value.fraction ?? 0.8
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1))
    throw bad(`fraction must be a number between 0 and 1, got ${String(fraction)}`)
  return { strategy, beta, fraction }
}
