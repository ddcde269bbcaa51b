export type { CompressionOptions } from './compression-options.ts'
export type { PreparedWrite } from './encode-write.ts'
export type {
  InvalidationOutcome,
  LeaseFence,
  StoreInvalidation,
  WriteOptions,
  WriteOutcome,
} from './fenced-writes.ts'
export { RedisStore } from './redis-store.ts'
export type { BreakerOptions, RedisClient, RedisStoreOptions } from './redis-store-options.ts'
export type { RetryOptions } from './retry.ts'
export type { WriteConnection, WriteFollowUp } from './write-connection.ts'
