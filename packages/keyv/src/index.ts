/**
 * A Keyv storage adapter over a Strata `Cache`, for Keyv, cache-manager and cacheable users:
 * `new Keyv({ store: new KeyvStrata(cache) })`.
 * @packageDocumentation
 */
export { KeyvStrata } from './keyv-strata.ts'
export type { KeyvStrataCache, KeyvStrataOptions } from './keyv-strata-options.ts'
