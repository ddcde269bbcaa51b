import {
  assertKnownOptions,
  Cache,
  CacheOptionError,
  type CacheOptions,
  type Duration,
} from '@strata-cache/core'
import { MemoryStore, type MemoryStoreOptions } from '@strata-cache/memory'
import { RedisStore, type RedisStoreOptions } from '@strata-cache/redis'
import { RedisBus, type RedisBusOptions } from './redis-bus.ts'
import { TieredStore } from './tiered-store.ts'

/** Options of {@link createCache}: which tiers, and the Cache defaults. */
export interface CreateCacheOptions {
  /** Redis to use as L2 and bus; without it (or empty) the cache is memory only. Read nothing from the environment: pass `process.env.REDIS_URL` yourself. */
  redisUrl?: string
  /** Key prefix in Redis; the bus channel is `<prefix>bus`. @default 'strata:' */
  prefix?: string
  /** L1 (MemoryStore) options: maxEntries, maxBytes, values, name. */
  l1?: Omit<MemoryStoreOptions, 'now'>
  /** L2 (RedisStore) options other than url, prefix and now. */
  redis?: Omit<RedisStoreOptions, 'url' | 'prefix' | 'now'>
  /** Bus (RedisBus) options other than url and prefix: instanceId, heartbeat, maxPending, commandTimeout. */
  bus?: Omit<RedisBusOptions, 'url' | 'prefix'>
  /** @default '5m' */
  defaultTtl?: Duration
  /** @default 0 */
  grace?: Duration
  softTimeout?: Duration
  hardTimeout?: Duration
  /** One loader per key across every pod, for every getOrSet (per call: `{ lock }`). @default false */
  lock?: boolean
  /** How long a pod without the lock waits for the holder's value. @default '5s' */
  lockWait?: Duration
  /** While the bus is down, L1 entries are served at most this long. @default '5s' */
  degradedL1Ttl?: Duration
  /** Clock, epoch ms, shared by every tier. @default Date.now */
  now?: () => number
}

const OPTIONS = [
  'redisUrl',
  'prefix',
  'l1',
  'redis',
  'bus',
  'defaultTtl',
  'grace',
  'softTimeout',
  'hardTimeout',
  'lock',
  'lockWait',
  'degradedL1Ttl',
  'now',
] as const

/**
 * A Cache from configuration: memory only without `redisUrl` (the embedded default), else L1
 * (MemoryStore) + L2 (RedisStore) + invalidation bus (RedisBus) in a TieredStore.
 */
export function createCache(options: CreateCacheOptions = {}): Cache {
  assertKnownOptions('createCache', options, OPTIONS)
  const { redisUrl, prefix, l1, redis, bus, degradedL1Ttl, now, ...defaults } = options
  if (redisUrl !== undefined && typeof redisUrl !== 'string') {
    throw new CacheOptionError(`createCache: option "redisUrl" must be a string, got ${typeof redisUrl}`, {
      option: 'redisUrl',
    })
  }
  if (redisUrl !== undefined && redisUrl !== '' && !/^rediss?:\/\//.test(redisUrl)) {
    throw new CacheOptionError(
      `createCache: option "redisUrl" must start with redis:// or rediss:// (got "${redisUrl}")`,
      {
        option: 'redisUrl',
      },
    )
  }
  for (const [name, value] of [
    ['l1', l1],
    ['redis', redis],
    ['bus', bus],
  ] as const) {
    if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
      throw new CacheOptionError(`createCache: option "${name}" must be an object`, { option: name })
    }
  }
  const cacheOptions = (store: CacheOptions['store']): CacheOptions => {
    const result: CacheOptions = { store }
    for (const [name, value] of Object.entries(defaults)) {
      if (value !== undefined) (result as unknown as Record<string, unknown>)[name] = value
    }
    if (now !== undefined) result.now = now
    return result
  }
  const memory = new MemoryStore({ ...l1, ...(now === undefined ? {} : { now }) })
  if (redisUrl === undefined || redisUrl === '') return new Cache(cacheOptions(memory))

  const l2 = new RedisStore({
    ...redis,
    url: redisUrl,
    ...(prefix === undefined ? {} : { prefix }),
    ...(now === undefined ? {} : { now }),
  })
  let invalidationBus: RedisBus
  try {
    invalidationBus = new RedisBus({ ...bus, url: redisUrl, ...(prefix === undefined ? {} : { prefix }) })
  } catch (error) {
    void l2.close()
    throw error
  }
  const store = new TieredStore({
    l1: memory,
    l2,
    bus: invalidationBus,
    // One server for both: a set's PUBLISH rides behind its SET on the store's connection.
    publishOnL2Connection: true,
    ...(degradedL1Ttl === undefined ? {} : { degradedL1Ttl }),
    ...(now === undefined ? {} : { now }),
  })
  try {
    return new Cache(cacheOptions(store))
  } catch (error) {
    void store.close()
    throw error
  }
}
