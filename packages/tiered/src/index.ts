export type { DecodedBusMessage } from './bus-message.ts'
export { BUS_PROTOCOL_VERSION, decodeBusMessage, encodeBusMessage, isValidInstanceId } from './bus-message.ts'
export type { CreateCacheOptions } from './create-cache.ts'
export { createCache } from './create-cache.ts'
export type {
  BusCounters,
  BusEvent,
  BusHandOff,
  BusListener,
  Invalidation,
  InvalidationBus,
} from './invalidation.ts'
export type { RedisBusOptions } from './redis-bus.ts'
export { RedisBus } from './redis-bus.ts'
export type { RedisLockOptions } from './redis-lock.ts'
export { RedisLock } from './redis-lock.ts'
export type { L1Store, L2Store, TieredStoreOptions } from './tiered-store.ts'
export { TieredStore } from './tiered-store.ts'
