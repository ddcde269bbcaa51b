/**
 * @internal Pieces the tiered package and the benchmarks share with the Redis store. Not part of
 * the public API: no semver promise. Import from `@strata-cache/redis/internal`.
 * @packageDocumentation
 */
export type { CircuitBreakerDeps, CircuitBreakerOptions } from './circuit-breaker.ts'
export { CircuitBreaker, DEFAULT_BREAKER } from './circuit-breaker.ts'
export { connectNodesWhenReady } from './cluster-nodes.ts'
export { corkUntilNextTick } from './cork.ts'
export { decodedValue, decodedValueBytes } from './decoded-entry.ts'
export { decodeEntry, decodeHeader, decodeStored, encodeEntry, OTHER_FORMAT } from './entry-codec.ts'
export type { IoredisModule } from './load-ioredis.ts'
export { loadIoredis } from './load-ioredis.ts'
export { resolveRetryOptions, validatePrefix } from './redis-store-options.ts'
export type { ResolvedRetryOptions } from './retry.ts'
export { DEFAULT_RETRY, reconnectDelay } from './retry.ts'
export { escapeGlob } from './scan-pattern.ts'
export { hashTag, keySlot, sameSlotKey } from './slot-keys.ts'
