import type { CacheCounters } from './cache-counters.ts'
import type { CacheEntry } from './cache-entry.ts'
import type { CacheDefaults, GetOrSetOptions } from './cache-options.ts'
import type { CacheEvents } from './events.ts'
import { type Loader, type LoaderRuns, resolveLoaderSettings } from './loader-run.ts'
import { type RefreshPolicy, resolveRefreshAhead } from './refresh-policy.ts'

/** Past this many β × delta before expiry, XFetch's chance (e^-n) is nil: no random draw. */
const XFETCH_HORIZON = 30
/** Loader durations kept per key (the most recent keys), for XFetch's delta. */
const MAX_DURATIONS = 10_000
/** XFetch's delta before any load of the key was timed here: this share of the TTL. */
const UNKNOWN_DELTA_SHARE = 0.05

/** What refresh-ahead needs of its Cache. */
export interface RefreshHost {
  readonly loads: LoaderRuns
  readonly counters: CacheCounters
  readonly events: CacheEvents
  readonly defaults: CacheDefaults
  /** Uniform in [0, 1); injectable for tests. */
  readonly random: () => number
}

/**
 * Refresh-ahead of one Cache: on a fresh hit, decides (by the policy of the call, else the
 * Cache's) whether to start a background reload. The reload is a run of the key's single flight
 * (skipped while one is in flight), takes the lock when asked (another process holding it is
 * already reloading: skipped), writes through the fenced path like any getOrSet load, and a
 * failure keeps the current value: the next attempt for the key is its next version's.
 */
export class RefreshAhead {
  private readonly durations = new Map<string, number>()
  private averageMs: number | undefined
  /** key → createdAt of the entry whose reload failed, so one failing loader is not retried per hit. */
  private readonly failed = new Map<string, number>()
  /**
   * Whether per-key durations are kept: only once XFetch may use them (the Cache's default, or a
   * call that asked for it). Until then a load costs no Map insert, and XFetch's first decisions
   * use the running average.
   */
  private perKey: boolean

  constructor(private readonly host: RefreshHost) {
    this.perKey = host.defaults.refreshAhead?.strategy === 'xfetch'
  }

  /** Starts keeping per-key durations: a call asked for refresh-ahead, which may be XFetch's. */
  keepDurations(): void {
    this.perKey = true
  }

  /** Records how long a load of `key` took (any getOrSet run), for XFetch's delta. */
  record(key: string, durationMs: number): void {
    this.averageMs = this.averageMs === undefined ? durationMs : this.averageMs * 0.9 + durationMs * 0.1
    if (!this.perKey) return
    if (this.durations.size >= MAX_DURATIONS && !this.durations.has(key)) this.durations.clear()
    this.durations.set(key, durationMs)
  }

  /**
   * Called on every fresh getOrSet hit: starts the background reload when the policy says so.
   * Never throws: bad per-call options are the slow path's to report.
   */
  onHit<T>(
    key: string,
    entry: CacheEntry<T>,
    now: number,
    loader: Loader<T>,
    options?: GetOrSetOptions,
  ): void {
    const call = options?.refreshAhead
    let policy: RefreshPolicy | undefined
    if (call === undefined) policy = this.host.defaults.refreshAhead
    else {
      try {
        policy = resolveRefreshAhead(call, `getOrSet("${key}")`)
      } catch {
        return
      }
    }
    if (policy === undefined) return
    if (policy.strategy === 'xfetch') this.perKey = true
    if (!this.due(policy, key, entry, now)) return
    const { loads, counters, events } = this.host
    if (loads.running(key) !== undefined || this.failed.get(key) === entry.createdAt) return
    if (typeof loader !== 'function') return
    let settings: ReturnType<typeof resolveLoaderSettings>
    try {
      settings = resolveLoaderSettings(key, options, this.host.defaults)
    } catch {
      return
    }
    const run = loads.refresh(key, loader, settings, entry)
    if (run === undefined) return
    counters.refreshes++
    if (events.has('refresh')) events.emit('refresh', { key })
    run.then(
      () => this.failed.delete(key),
      () => {
        if (this.failed.size >= MAX_DURATIONS) this.failed.clear()
        this.failed.set(key, entry.createdAt)
      },
    )
  }

  /** Whether a hit at `now` on `entry` should reload it, by `policy`. */
  private due(policy: RefreshPolicy, key: string, entry: CacheEntry, now: number): boolean {
    const ttl = entry.expiresAt - entry.createdAt
    if (policy.strategy === 'fraction') return now >= entry.createdAt + ttl * policy.fraction
    const delta = this.durations.get(key) ?? this.averageMs ?? ttl * UNKNOWN_DELTA_SHARE
    const reach = delta * policy.beta
    const remaining = entry.expiresAt - now
    if (remaining > reach * XFETCH_HORIZON) return false
    return -reach * Math.log(this.host.random()) >= remaining
  }
}
