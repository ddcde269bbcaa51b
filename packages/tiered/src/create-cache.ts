import {
  Cache,
  CacheOptionError,
  type CacheOptions,
  type DistributedLock,
  type Duration,
  LocalChannels,
} from '@strata-cache/core'
import { assertKnownOptions } from '@strata-cache/core/internal'
import { MemoryStore, type MemoryStoreOptions } from '@strata-cache/memory'
import { RedisStore, type RedisStoreOptions } from '@strata-cache/redis'
import { AppChannels, type AppChannelsOptions } from './app-channels.ts'
import type { L1AdmissionMode } from './l1-admission.ts'
import { RedisBus } from './redis-bus.ts'
import type { RedisBusOptions } from './redis-bus-options.ts'
import { RedisLock } from './redis-lock.ts'
import {
  busTarget,
  type CacheClusterOptions,
  type CacheSentinelOptions,
  type RedisTarget,
  resolveRedisTarget,
  storeTarget,
} from './redis-target.ts'
import { TieredStore } from './tiered-store.ts'
import { resolveL1Admission } from './tiered-store-options.ts'

/**
 * Options of {@link createCache}: which tiers, and the Cache's own options (`defaultTtl`, `grace`,
 * `softTimeout`, `hardTimeout`, `lock`, `lockWait`, `refreshAhead`, `now`; see CacheOptions), passed on as given.
 */
export interface CreateCacheOptions extends Omit<CacheOptions, 'store'> {
  /** Redis to use as L2 and bus; without it (or empty) the cache is memory only. Read nothing from the environment: pass `process.env.REDIS_URL` yourself. @default none (memory only) */
  redisUrl?: string
  /**
   * A Redis Cluster for L2, the bus (sharded pub/sub) and the lock, as ioredis takes one:
   * `{ nodes: [{ host, port }], options? }`, credentials and TLS in `options.redisOptions` (or
   * `redis.redisOptions`). Exactly one of `redisUrl`, `cluster`, `sentinel`. @default none
   */
  cluster?: CacheClusterOptions
  /**
   * Redis through Sentinel for L2, the bus and the lock: `{ sentinels: [{ host, port }], name,
   * password? }`; the pods follow a promoted replica by themselves. TLS and a username in
   * `redis.redisOptions`. Exactly one of `redisUrl`, `cluster`, `sentinel`. @default none
   */
  sentinel?: CacheSentinelOptions
  /** Key prefix in Redis; the bus channel is `<prefix>bus`. @default 'strata:' */
  prefix?: string
  /** L1 (MemoryStore) options: maxEntries, maxBytes, values, name; and `admission`, `admissionWindow`, `loadAdmission` (see {@link CreateCacheL1Options}). @default {} */
  l1?: CreateCacheL1Options
  /** L2 (RedisStore) options other than where (url, cluster, sentinel, client), prefix and now; its `redisOptions` also apply to the bus on a cluster or through Sentinel. @default {} */
  redis?: Omit<RedisStoreOptions, 'url' | 'cluster' | 'sentinel' | 'client' | 'prefix' | 'now'>
  /** Bus (RedisBus) options other than url and prefix: instanceId, heartbeat, maxPending, commandTimeout, secret (signs the bus's messages). @default {} */
  bus?: Omit<RedisBusOptions, 'url' | 'prefix'>
  /** While the bus is down, L1 entries are served at most this long. @default '5s' */
  degradedL1Ttl?: Duration
  /** L1 keeps no entry longer than this after writing it, whatever its TTL or what L2 says (see TieredStore). @default '1h' */
  maxL1Ttl?: Duration
  /** Application channels (`cache.publish` / `cache.subscribe`): `maxMessageBytes`. Over the bus's connections with Redis, in process without. @default {} */
  channels?: Omit<AppChannelsOptions, 'bus'>
}

/** `createCache`'s `l1`: the MemoryStore's options, and which values read from Redis it takes. */
export interface CreateCacheL1Options extends Omit<MemoryStoreOptions, 'now'> {
  /**
   * Which values read from Redis enter L1 (your own `set` always does): `'seen-twice'` lets a key in
   * the second time Redis returns it within `admissionWindow`, so keys read once cost L1 nothing;
   * `'always'` fills L1 on every Redis hit. No effect without Redis. See TieredStore's `l1Admission`.
   * @default 'seen-twice'
   */
  admission?: L1AdmissionMode
  /** With `admission: 'seen-twice'`: how many other new keys a first read is remembered for (up to twice that). @default `maxEntries` */
  admissionWindow?: number
  /**
   * Which loader results enter L1: `'always'`, or `'seen-twice'` (needs `admission: 'seen-twice'`):
   * a key computed for the first time goes to Redis only, and enters L1 on its next read. For keys
   * mostly computed once; while Redis is unreachable such a value is computed again. See
   * TieredStore's `l1LoadAdmission`. @default 'always'
   */
  loadAdmission?: L1AdmissionMode
}

/** The Cache's options createCache passes on; the type check below fails when CacheOptions gains one. */
const CACHE_OPTIONS = [
  'defaultTtl',
  'grace',
  'softTimeout',
  'hardTimeout',
  'lock',
  'lockWait',
  'refreshAhead',
  'now',
] as const satisfies readonly (keyof CacheOptions)[]
type NoneMissing<T extends never> = T
type _EveryCacheOption = NoneMissing<
  Exclude<keyof Omit<CacheOptions, 'store'>, (typeof CACHE_OPTIONS)[number]>
>

const OPTIONS = [
  'redisUrl',
  'cluster',
  'sentinel',
  'prefix',
  'l1',
  'redis',
  'bus',
  'degradedL1Ttl',
  'maxL1Ttl',
  'channels',
  ...CACHE_OPTIONS,
] as const

/**
 * A Cache from configuration: memory only without `redisUrl`, `cluster` or `sentinel` (the embedded
 * default), else L1 (MemoryStore) + L2 (RedisStore) + invalidation bus (RedisBus) in a TieredStore,
 * with a RedisLock over the bus's connection for `getOrSet({ lock: true })` (and for every getOrSet
 * with `lock: true`), on a single node, a Redis Cluster or through Sentinel.
 */
export function createCache(options: CreateCacheOptions = {}): Cache {
  assertKnownOptions('createCache', options, OPTIONS)
  const {
    redisUrl,
    cluster,
    sentinel,
    prefix,
    l1,
    redis,
    bus,
    degradedL1Ttl,
    maxL1Ttl,
    channels,
    now,
    ...defaults
  } = options
  const target = resolveRedisTarget({ redisUrl, cluster, sentinel })
  for (const [name, value] of [
    ['l1', l1],
    ['redis', redis],
    ['bus', bus],
    ['channels', channels],
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
  // L1 copies values with L2's serializer: it holds (and accepts) what L2 gives back.
  const serializer = l1?.serializer ?? (l1?.values === 'reference' ? undefined : redis?.serializer)
  const { admission, admissionWindow, loadAdmission, ...memoryOptions } = l1 ?? {}
  // Checked before any connection opens (the TieredStore would check it only after).
  if (target !== undefined)
    resolveL1Admission(admission, admissionWindow, loadAdmission, 'createCache', [
      'l1.admission',
      'l1.admissionWindow',
      'l1.loadAdmission',
    ])
  const memory = new MemoryStore({
    ...memoryOptions,
    ...(now === undefined ? {} : { now }),
    ...(serializer && { serializer }),
  })
  if (target === undefined) {
    // In process: the store carries LocalChannels only to apply the options given.
    if (channels !== undefined)
      Object.defineProperty(memory, 'channels', { value: new LocalChannels(channels) })
    return new Cache(cacheOptions(memory))
  }

  const l2 = new RedisStore({
    ...redis,
    ...storeTarget(target),
    ...(prefix === undefined ? {} : { prefix }),
    ...(now === undefined ? {} : { now }),
  })
  let invalidationBus: RedisBus
  try {
    invalidationBus = new RedisBus({
      ...busOptions(bus),
      ...busTarget(target, redis?.redisOptions, bus?.redisOptions ?? bus?.redis),
      ...(prefix === undefined ? {} : { prefix }),
    })
  } catch (error) {
    void l2.close()
    throw error
  }
  let appChannels: AppChannels
  try {
    // The bus's secret signs the application messages too.
    const secret = bus?.secret === undefined ? {} : { secret: bus.secret }
    appChannels = new AppChannels({ ...secret, ...channels, bus: invalidationBus })
  } catch (error) {
    void invalidationBus.close()
    void l2.close()
    throw error
  }
  const store = new TieredStore({
    l1: memory,
    l2,
    bus: invalidationBus,
    // One server for both: a set's PUBLISH rides behind its SET on the store's connection.
    publishOnL2Connection: true,
    lock: busLock(invalidationBus, l2, target, now),
    channels: appChannels,
    ...(degradedL1Ttl === undefined ? {} : { degradedL1Ttl }),
    ...(maxL1Ttl === undefined ? {} : { maxL1Ttl }),
    ...(admission === undefined ? {} : { l1Admission: admission }),
    ...(admissionWindow === undefined ? {} : { l1AdmissionWindow: admissionWindow }),
    ...(loadAdmission === undefined ? {} : { l1LoadAdmission: loadAdmission }),
    ...(now === undefined ? {} : { now }),
  })
  try {
    return new Cache(cacheOptions(store))
  } catch (error) {
    void store.close()
    throw error
  }
}

/** The bus's own options, without where it connects (the deprecated `redis` alias included). */
function busOptions(bus: CreateCacheOptions['bus']): Omit<RedisBusOptions, 'url' | 'prefix'> {
  if (bus === undefined) return {}
  const { redis: _legacy, redisOptions: _options, cluster: _cluster, ...own } = bus
  return own
}

/**
 * The default lock of a tiered cache: a RedisLock over the bus's publisher connection (it fails fast
 * while Redis is down), keyed outside the store's key space at `<prefix without ':'>#lock:<key>` — on
 * a cluster in the slot of the key's entry (RedisStore.lockKeyFor), so the store's write script checks
 * the lease with the write, and each command bounded by the bus's commandTimeout —, reading through
 * the store (a hit fills L1) and woken by the store's key notices.
 */
function busLock(
  bus: Pick<RedisBus, 'client' | 'prefix' | 'commandTimeoutMs'>,
  l2: Pick<RedisStore, 'lockKeyFor'>,
  target: RedisTarget,
  now: (() => number) | undefined,
): (store: TieredStore) => DistributedLock {
  const lockPrefix = `${bus.prefix.replace(/:$/, '')}#lock:`
  return (store) =>
    new RedisLock({
      client: bus.client,
      lockPrefix,
      keyFor: (key) => l2.lockKeyFor(lockPrefix, key),
      ...(target.kind === 'cluster' ? { commandTimeoutMs: bus.commandTimeoutMs } : {}),
      read: (key) => store.get(key),
      onKeyNotice: (key, callback) => store.onKeyNotice(key, callback),
      ...(now === undefined ? {} : { now }),
    })
}
