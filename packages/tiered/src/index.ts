export type { AppChannelCounters, AppChannelsBus, AppChannelsOptions } from './app-channels.ts'
export { AppChannels } from './app-channels.ts'
export type { DecodedBusMessage } from './bus-message.ts'
export { BUS_PROTOCOL_VERSION, decodeBusMessage, encodeBusMessage, isValidInstanceId } from './bus-message.ts'
export type { BusClusterOptions } from './cluster-bus.ts'
export type { CreateCacheL1Options, CreateCacheOptions } from './create-cache.ts'
export { createCache } from './create-cache.ts'
export type {
  BusCounters,
  BusEvent,
  BusListener,
  Invalidation,
  InvalidationBus,
  WriteNotice,
} from './invalidation.ts'
export { L1AdmissionMode } from './l1-admission.ts'
export type { MemoryBusOptions } from './memory-bus.ts'
export { MemoryBus, MemoryBusHub } from './memory-bus.ts'
export { RedisBus } from './redis-bus.ts'
export type { RedisBusOptions } from './redis-bus-options.ts'
export type { RedisLockOptions } from './redis-lock.ts'
export { RedisLock } from './redis-lock.ts'
export type { CacheClusterOptions, CacheSentinelOptions } from './redis-target.ts'
export { TieredStore } from './tiered-store.ts'
export type { L1Store, L2Store, TieredStoreOptions } from './tiered-store-options.ts'
