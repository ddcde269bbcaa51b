import { randomBytes } from 'node:crypto'
import {
  type CacheEntry,
  CacheError,
  CacheErrorCode,
  type DistributedLock,
  type LockLease,
} from '@strata-cache/core'
import type { Cluster, Redis } from 'ioredis'

export interface RedisLockOptions {
  /** A plain (non-subscriber) connection, or a Cluster client; fails fast while Redis is down. */
  client: Redis | Cluster
  /** Lock keys are `<lockPrefix><key>` (unless `keyFor` names them). */
  lockPrefix: string
  /**
   * The Redis key holding the lock of `key`. On a Cluster give one in the slot of the key's entry
   * (RedisStore.lockKeyFor), so that the store's write script can check the lease with the write.
   * @default `<lockPrefix><key>`
   */
  keyFor?: (key: string) => string
  /** Deadline of each lock command, ms: a Cluster client retries through a failover for longer than a caller should wait. @default none (the connection's own commandTimeout) */
  commandTimeoutMs?: number
  /** Reads what the store holds for a key (the tiered read, so a hit also fills L1). */
  read: <T>(key: string) => Promise<CacheEntry<T> | undefined>
  /** Registers a callback run when another pod announces a write or delete of `key`; returns the unregister function. */
  onKeyNotice: (key: string, callback: () => void) => () => void
  /** Polling interval while waiting, for when a notice is lost. @default 50 */
  pollMs?: number
  now?: () => number
}

// Compare-and-delete / compare-and-extend: only the lease's own token may release or renew it.
const RELEASE_SCRIPT =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
const RENEW_SCRIPT =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"

/**
 * One loader per key across processes: `SET key token NX PX ttl`, released with a compare-and-delete
 * script, so an expired lease that someone else took over is never released by its old holder.
 */
export class RedisLock implements DistributedLock {
  private readonly client: Redis | Cluster
  private readonly lockPrefix: string
  private readonly keyFor: ((key: string) => string) | undefined
  private readonly commandTimeoutMs: number | undefined
  private readonly read: RedisLockOptions['read']
  private readonly onKeyNotice: RedisLockOptions['onKeyNotice']
  private readonly pollMs: number
  private readonly now: () => number

  constructor(options: RedisLockOptions) {
    this.client = options.client
    this.lockPrefix = options.lockPrefix
    this.keyFor = options.keyFor
    this.commandTimeoutMs = options.commandTimeoutMs
    this.read = options.read
    this.onKeyNotice = options.onKeyNotice
    this.pollMs = options.pollMs ?? 50
    this.now = options.now ?? Date.now
  }

  /** The Redis key holding the lock of `key`. */
  lockKey(key: string): string {
    return this.keyFor?.(key) ?? `${this.lockPrefix}${key}`
  }

  /**
   * Takes the lock for `ttlMs`, or resolves undefined when another process holds it. While held, the
   * lease is renewed every third of `ttlMs` (compare-and-extend), so a loader slower than the lease
   * keeps it; `fence` lets the store check it atomically with the write (RedisStore.write's `lease`).
   */
  async acquire(key: string, ttlMs: number): Promise<LockLease | undefined> {
    const lockKey = this.lockKey(key)
    const token = randomBytes(12).toString('base64url')
    const leaseMs = Math.max(1, Math.ceil(ttlMs))
    const ok = await this.bounded(this.client.set(lockKey, token, 'PX', leaseMs, 'NX'))
    if (ok !== 'OK') return undefined
    const client = this.client
    const bounded = <R>(command: Promise<R>) => this.bounded(command)
    let released = false
    const renewal = setInterval(
      () => {
        bounded(client.eval(RENEW_SCRIPT, 1, lockKey, token, leaseMs)).then(
          (held) => {
            if (held === 0) clearInterval(renewal) // taken over: the fenced write will refuse
          },
          () => {}, // Redis away: the next tick tries again; the lease may lapse meanwhile
        )
      },
      Math.max(10, Math.floor(leaseMs / 3)),
    )
    renewal.unref()
    return {
      fence: { key: lockKey, token },
      async isValid() {
        if (released) return false
        // Unknown (Redis unreachable) counts as lost: the holder then skips its write, never errs.
        return (await bounded(client.get(lockKey)).catch(() => null)) === token
      },
      async release() {
        if (released) return
        released = true
        clearInterval(renewal)
        await bounded(client.eval(RELEASE_SCRIPT, 1, lockKey, token))
      },
    }
  }

  async waitFor<T>(key: string, waitMs: number): Promise<CacheEntry<T> | undefined> {
    const deadline = this.now() + waitMs
    const lockKey = this.lockKey(key)
    let wake: (() => void) | undefined
    const unregister = this.onKeyNotice(key, () => wake?.())
    try {
      for (;;) {
        // Lock first, then value: a holder writes before it releases, so "released" then "no value"
        // really means it gave up (or failed), and the caller should load.
        const held = (await this.bounded(this.client.exists(lockKey))) === 1
        const entry = await this.read<T>(key)
        if (entry !== undefined && this.now() < entry.expiresAt) return entry
        if (!held) return undefined
        const left = deadline - this.now()
        if (left <= 0) return undefined
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(this.pollMs, left))
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
        wake = undefined
      }
    } finally {
      unregister()
    }
  }

  /** `command`, rejected with E_COMMAND_TIMEOUT past `commandTimeoutMs` (when set). */
  private bounded<R>(command: Promise<R>): Promise<R> {
    const ms = this.commandTimeoutMs
    if (ms === undefined) return command
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new CacheError(CacheErrorCode.COMMAND_TIMEOUT, `lock: no answer from Redis within ${ms} ms`),
          ),
        ms,
      )
    })
    command.catch(() => {}) // a late failure after the deadline is not an unhandled rejection
    return Promise.race([command, late]).finally(() => clearTimeout(timer))
  }
}
