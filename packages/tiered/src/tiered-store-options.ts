import {
  type CacheEntry,
  CacheOptionError,
  type CacheStore,
  type ChannelTransport,
  type DistributedLock,
  type Duration,
  parseDuration,
} from '@strata-cache/core'
import { assertKnownOptions } from '@strata-cache/core/internal'
import type {
  InvalidationOutcome,
  PreparedWrite,
  StoreInvalidation,
  WriteFollowUp,
  WriteOptions,
  WriteOutcome,
} from '@strata-cache/redis'
import type { InvalidationBus } from './invalidation.ts'
import { L1AdmissionMode, MAX_ADMISSION_WINDOW } from './l1-admission.ts'
import { DEFAULT_MAX_REPAIRS } from './l2-repairs.ts'
import type { TieredStore } from './tiered-store.ts'

/** An in-process L1: `peek` for the sync hit path, `purgeWrittenBefore` to drop what a gap may have made stale. */
export interface L1Store extends CacheStore {
  /** Drops every entry written before `epochMs`; returns how many. Without it, a purge clears L1. */
  purgeWrittenBefore?(epochMs: number): number
  /**
   * Like `set`, but takes over the entry's value (no copy) and counts `sizeBytes` as its size; used
   * for fills from an L2 read whose value nobody else holds (see MemoryStore.fill).
   */
  fill?(key: string, entry: CacheEntry, sizeBytes: number): void | Promise<void>
  /**
   * Like `set`, with the value as the text L1's serializer writes, parsed on its first read (see
   * MemoryStore.fillText): for a write's L1 copy, which is often never read in this pod.
   */
  fillText?(key: string, entry: Omit<CacheEntry, 'value'>, text: string): void | Promise<void>
  /** Most entries L1 holds (MemoryStore's `maxEntries`): the default `l1AdmissionWindow`. @default 10000 */
  readonly maxEntries?: number
  /** How L1 copies values (MemoryStore's `serializer`): a value L2 decoded in this format may be filled as is. @default JSON */
  readonly serializer?: { readonly name: string } | undefined
}

/** A shared L2: `isAvailable()` false while its breaker is open. */
export interface L2Store extends CacheStore {
  /** False while L2 cannot be reached (a RedisStore's open breaker): its counts are then not trusted. @default true */
  isAvailable?(): boolean
  /** Resolves true once L2 has a ready connection, false after `timeoutMs` (RedisStore.ready). @default ready at once */
  ready?(timeoutMs?: number): Promise<boolean>
  /** False when `setFollowedBy` can never pair a write with its follow-up (a Cluster). @default true */
  readonly canFollowWrites?: boolean
  /**
   * `set`, then `followUp` on the connection that carried the write, in the same round trip (see
   * RedisStore.setFollowedBy). Resolves true when Redis acknowledged both, false when either was not
   * sent or failed.
   */
  setFollowedBy?<T>(key: string, entry: CacheEntry<T>, followUp: WriteFollowUp): Promise<boolean>
  /**
   * Fenced writes (a RedisStore has all four; see its README, "L2 never goes back in time"). With
   * them the tiered store learns what L2 applied, replays what it could not, and drops loader
   * results older than a change another pod made.
   */
  prepare?<T>(key: string, entry: CacheEntry<T>): PreparedWrite
  /** A copy of a prepared entry decoded from its encoded text, which L1 may keep as is (RedisStore.copyOf). */
  copyOf?<T>(prepared: PreparedWrite): CacheEntry<T> | undefined
  /** A prepared entry's value as the text sent to L2, when it went as text in `format` (RedisStore.valueTextOf). */
  valueTextOf?(prepared: PreparedWrite, format: string): string | undefined
  /** The fenced write: resolves what became of it. */
  write?(prepared: PreparedWrite, options?: WriteOptions): Promise<WriteOutcome>
  /** A removal that says whether L2 applied it. */
  invalidate?(invalidation: StoreInvalidation): Promise<InvalidationOutcome>
  /** L2's clock as this process estimates it, ms: when a load began, for a fill's fence. */
  redisNow?(): number
  /** When a load starting now began on L2's clock (µs), for a fill's `fillSince`. */
  loadStart?(): number
}

/** An L2 with fenced writes (see L2Store.write). */
export type FencedL2 = L2Store & Required<Pick<L2Store, 'prepare' | 'write' | 'invalidate' | 'loadStart'>>

/** True when `l2` offers fenced writes. */
export function isFenced(l2: L2Store): l2 is FencedL2 {
  return (
    typeof l2.prepare === 'function' &&
    typeof l2.write === 'function' &&
    typeof l2.invalidate === 'function' &&
    typeof l2.loadStart === 'function'
  )
}

/** Options of {@link TieredStore}. */
export interface TieredStoreOptions {
  /** The in-process tier, usually a MemoryStore (same clock as `now`). */
  l1: L1Store
  /** The shared tier, usually a RedisStore. */
  l2: L2Store
  /** Carries invalidations to the other pods; without one, this store trusts its L1 (single process). @default none */
  bus?: InvalidationBus
  /** While the bus is down (or L2 unavailable), an L1 entry is served at most this long after it was written here, or after the bus went down. @default '5s' */
  degradedL1Ttl?: Duration
  /**
   * Longest an entry stays in L1 after it was written there, whatever its TTL or what L2 says (an
   * entry planted in Redis with a far `staleUntil`): its `expiresAt` and `staleUntil` are cut to this
   * from now. A longer-lived entry is then read again from L2, which holds it as long as it says.
   * @default '1h'
   */
  maxL1Ttl?: Duration
  /** Store name, as reported to the Cache. @default 'tiered' */
  name?: string
  /**
   * Distributed single flight for the Cache's `getOrSet({ lock: true })`: a lock, or a function that
   * builds one for this store (it may read through `store.get` and wait on `store.onKeyNotice`).
   * createCache passes a RedisLock over the bus's connection. @default none
   */
  lock?: DistributedLock | ((store: TieredStore) => DistributedLock) | false
  /** Clock, epoch ms; give L1 the same one. @default Date.now */
  now?: () => number
  /**
   * L2 and the bus are on the same Redis server: a `set`'s invalidation goes out on the connection
   * of L2's write, right behind it (`l2.setFollowedBy` with `bus.followWrite`), one round trip
   * instead of two, in the same order. createCache turns it on. @default false
   */
  publishOnL2Connection?: boolean
  /**
   * Removals L2 could not apply (and `set`s it could not take, as deletes), kept for replay when it
   * answers again; past this many they collapse into one clear of the prefix (reported once as an
   * `error` event with operation `repair`). Needs an L2 with fenced writes (a RedisStore). @default 10000
   */
  maxRepairs?: number
  /**
   * Which values read from L2 enter L1 (a pod's own `set` always does): `'always'`, or
   * `'seen-twice'` — a key enters L1 the second time L2 returns it within `l1AdmissionWindow` (a
   * doorkeeper, as in TinyLFU). Keys read once (scans, a long tail) then cost L1 nothing: no
   * freeze, no insert, no eviction, no object kept alive; a key read again pays one more L2 read
   * before L1 holds it. A key L1 already holds (within grace) is always refreshed.
   * @default 'seen-twice'
   */
  l1Admission?: L1AdmissionMode
  /**
   * With `l1Admission: 'seen-twice'`: how many other new keys a first sighting is remembered for
   * (between this many and twice as many; at most 1,000,000, which takes 8 MB). @default L1's `maxEntries` (10000 when L1 does not say; at most 1,000,000)
   */
  l1AdmissionWindow?: number
  /**
   * Which loader results enter L1 (getOrSet's, getOrSetMany's): `'always'`, or `'seen-twice'` — a
   * result whose key the doorkeeper of `l1Admission: 'seen-twice'` has not seen goes to L2 only, and
   * the key's next read from L2 fills L1. For services whose keys are mostly computed once and not
   * read again in the same pod: no L1 insert, eviction or object kept per load (cold `getOrSet` 18 %
   * faster in `bench:profile`). The cost: a value this pod just computed is not in its L1, so while
   * Redis is unreachable it is computed again (a result L2 could not take still goes to L1, for
   * degradedL1Ttl). Needs `l1Admission: 'seen-twice'`. @default 'always'
   */
  l1LoadAdmission?: L1AdmissionMode
  /** Application channels the store offers as `channels` (createCache passes AppChannels over the bus); closed with the store. @default none: a Cache over it then delivers in process */
  channels?: ChannelTransport
}

const TIERED_STORE_OPTIONS = [
  'l1',
  'l2',
  'bus',
  'degradedL1Ttl',
  'maxL1Ttl',
  'name',
  'lock',
  'now',
  'publishOnL2Connection',
  'maxRepairs',
  'channels',
  'l1Admission',
  'l1AdmissionWindow',
  'l1LoadAdmission',
] as const

/** Options after defaults and checks. */
export interface ResolvedTieredStoreOptions {
  name: string
  now: () => number
  degradedL1TtlMs: number
  maxL1TtlMs: number
  maxRepairs: number
  l1Admission: L1AdmissionMode
  /** Undefined: L1's maxEntries. */
  l1AdmissionWindow: number | undefined
  l1LoadAdmission: L1AdmissionMode
}

/** Admission when the option is left out. */
export const DEFAULT_L1_ADMISSION: L1AdmissionMode = L1AdmissionMode.SEEN_TWICE

/** Checks `options` (unknown names, the two tiers) and applies the defaults. Throws a CacheOptionError. */
export function resolveTieredStoreOptions(options: TieredStoreOptions): ResolvedTieredStoreOptions {
  assertKnownOptions('TieredStore', options, TIERED_STORE_OPTIONS)
  for (const tier of ['l1', 'l2'] as const) {
    if (typeof options?.[tier]?.get !== 'function') {
      throw new CacheOptionError(`TieredStore: option "${tier}" is required and must implement CacheStore`, {
        option: tier,
      })
    }
  }
  return {
    name: options.name ?? 'tiered',
    now: options.now ?? Date.now,
    degradedL1TtlMs: parseDuration(options.degradedL1Ttl ?? '5s', 'degradedL1Ttl'),
    maxL1TtlMs: resolveMaxL1Ttl(options.maxL1Ttl),
    maxRepairs: resolveMaxRepairs(options.maxRepairs),
    ...resolveL1Admission(options.l1Admission, options.l1AdmissionWindow, options.l1LoadAdmission),
  }
}

/**
 * Checks `l1Admission`, `l1AdmissionWindow` and `l1LoadAdmission` (named `names` in errors:
 * createCache calls them `l1.admission`, `l1.admissionWindow` and `l1.loadAdmission`) and applies
 * the default modes. Throws a CacheOptionError.
 */
export function resolveL1Admission(
  mode: L1AdmissionMode | undefined,
  window: number | undefined,
  loadMode: L1AdmissionMode | undefined,
  where = 'TieredStore',
  names: readonly [string, string, string] = ['l1Admission', 'l1AdmissionWindow', 'l1LoadAdmission'],
): Pick<ResolvedTieredStoreOptions, 'l1Admission' | 'l1AdmissionWindow' | 'l1LoadAdmission'> {
  const [modeName, windowName, loadName] = names
  const l1Admission = admissionMode(mode, DEFAULT_L1_ADMISSION, where, modeName)
  const l1LoadAdmission = admissionMode(loadMode, L1AdmissionMode.ALWAYS, where, loadName)
  if (l1LoadAdmission === L1AdmissionMode.SEEN_TWICE && l1Admission !== L1AdmissionMode.SEEN_TWICE) {
    throw new CacheOptionError(
      `${where}: option "${loadName}": 'seen-twice' uses the doorkeeper of ${modeName}: 'seen-twice' (got '${l1Admission}')`,
      { option: loadName },
    )
  }
  if (window === undefined) return { l1Admission, l1AdmissionWindow: undefined, l1LoadAdmission }
  if (!Number.isSafeInteger(window) || window < 1 || window > MAX_ADMISSION_WINDOW) {
    throw new CacheOptionError(
      `${where}: option "${windowName}" must be an integer from 1 to ${MAX_ADMISSION_WINDOW} (a number of keys), got ${String(window)}`,
      { option: windowName },
    )
  }
  if (l1Admission !== L1AdmissionMode.SEEN_TWICE) {
    throw new CacheOptionError(
      `${where}: option "${windowName}" is only used with ${modeName}: 'seen-twice' (got '${l1Admission}')`,
      { option: windowName },
    )
  }
  return { l1Admission, l1AdmissionWindow: window, l1LoadAdmission }
}

function admissionMode(
  mode: L1AdmissionMode | undefined,
  fallback: L1AdmissionMode,
  where: string,
  name: string,
): L1AdmissionMode {
  const resolved = mode ?? fallback
  if (resolved !== L1AdmissionMode.ALWAYS && resolved !== L1AdmissionMode.SEEN_TWICE) {
    throw new CacheOptionError(
      `${where}: option "${name}" must be 'always' or 'seen-twice', got ${JSON.stringify(mode) ?? String(mode)}`,
      { option: name },
    )
  }
  return resolved
}

function resolveMaxL1Ttl(value: Duration | undefined): number {
  const ms = parseDuration(value ?? '1h', 'maxL1Ttl')
  if (ms <= 0) {
    throw new CacheOptionError(`TieredStore: option "maxL1Ttl" must be longer than 0, got ${String(value)}`, {
      option: 'maxL1Ttl',
    })
  }
  return ms
}

function resolveMaxRepairs(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_REPAIRS
  if (!Number.isInteger(value) || value < 1) {
    throw new CacheOptionError(
      `TieredStore: option "maxRepairs" must be an integer >= 1, got ${String(value)}`,
      {
        option: 'maxRepairs',
      },
    )
  }
  return value
}
