import type { Cache } from './cache.ts'
import { WRAP_OPTIONS, type WrapOptions } from './cache-options.ts'
import { assertKnownOptions, CacheOptionError } from './errors.ts'

/** `Cache.wrap`: a memoised async function whose calls with the same key share one `getOrSet`. */
export function wrapFunction<A extends unknown[], R>(
  cache: Pick<Cache, 'getOrSet'>,
  fn: (...args: A) => R | Promise<R>,
  options: WrapOptions<A>,
): (...args: A) => Promise<Awaited<R>> {
  assertKnownOptions('wrap', options, WRAP_OPTIONS)
  if (typeof fn !== 'function') throw new CacheOptionError('wrap: the first argument must be a function')
  if (typeof options?.key !== 'function') {
    throw new CacheOptionError(
      'wrap: option "key" must be a function building the cache key from the arguments',
      { option: 'key' },
    )
  }
  const { key: keyOf, ...rest } = options
  const getOrSetOptions = Object.keys(rest).length > 0 ? rest : undefined
  return (...args: A) =>
    cache.getOrSet<Awaited<R>>(
      keyOf(...args),
      () => Promise.resolve(fn(...args)) as Promise<Awaited<R>>,
      getOrSetOptions,
    )
}
