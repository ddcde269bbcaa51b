export { Cache } from './cache.ts'
export type { BatchLoader, GetOrSetManyOptions, SetManyEntry } from './cache-batches.ts'
export type { CacheStats } from './cache-counters.ts'
export type { CacheEntry } from './cache-entry.ts'
export { createEntry, isFresh, isServable } from './cache-entry.ts'
export type {
  CacheOptions,
  GetOptions,
  GetOrSetOptions,
  SetOptions,
  WrapOptions,
} from './cache-options.ts'
export type {
  BreakerState,
  BusState,
  CacheStore,
  DistributedLock,
  InvalidationKind,
  LoadToken,
  LockLease,
  StoreEvent,
  StoreEventListener,
  TierHealth,
  TierStats,
  TierStatus,
} from './cache-store.ts'
export type { ChannelEvent, ChannelHandler, ChannelMessageInfo, ChannelTransport } from './channels.ts'
export { validateChannel } from './channels.ts'
export type { Duration } from './duration.ts'
export { parseDuration } from './duration.ts'
export type { CacheErrorOptions } from './errors.ts'
export {
  CacheError,
  CacheErrorCode,
  CacheKeyError,
  CacheOptionError,
  CacheSerializationError,
  CacheTimeoutError,
} from './errors.ts'
export type { CacheEventListener, CacheEventMap, CacheEventName, CacheOperation } from './events.ts'
export type { HealthReport, HealthStatus } from './health-report.ts'
export type { KeyBuilder, KeyParams, KeyParamValue } from './key-schema.ts'
export {
  defineKey,
  hashParams,
  isValidKey,
  keyPatternOf,
  MAX_KEY_LENGTH,
  MAX_PATTERN_WILDCARDS,
  validateKey,
  validatePattern,
  validateTags,
} from './key-schema.ts'
export type { Loader, LoaderContext } from './loader-run.ts'
export type { LocalChannelsOptions } from './local-channels.ts'
export { LocalChannels } from './local-channels.ts'
export type { MsgpackSerializerOptions } from './msgpack-serializer.ts'
export { MsgpackSerializer } from './msgpack-serializer.ts'
export type { RefreshAheadOptions } from './refresh-policy.ts'
export type { AnySerializer, Serializer } from './serializer.ts'
export { JsonSerializer, jsonSerializer } from './serializer.ts'
export { StructuredSerializer, structuredSerializer } from './structured-serializer.ts'
export type { CacheTracing, TraceAttributes, TraceSpan } from './tracing.ts'
