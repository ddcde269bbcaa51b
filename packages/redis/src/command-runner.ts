import { CacheError, CacheErrorCode, CacheTimeoutError, type CacheTracing } from '@strata-cache/core'
import { withDeadline } from '@strata-cache/core/internal'
import type { Cluster } from 'ioredis'
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.ts'
import { CircuitOpenReports } from './circuit-open-reports.ts'
import { refreshOnSlotError } from './cluster-nodes.ts'
import { corkUntilNextTick } from './cork.ts'
import type { ConnectionPool } from './pool.ts'
import type { RedisClient } from './redis-store-options.ts'
import { roundTripSpan } from './round-trip-span.ts'
import { type StoreEvents, unavailable } from './store-events.ts'

/** Command timeouts whose timer ran late because this process was blocked (see recordFailure). */
const stallTimeouts = new WeakSet<object>()
const RESTART_AFTER_STALL = { restartAfterStall: true } as const

/** Redis answered, but about data (a hand-written key of another type): not a sign of a sick server. */
export function isDataReply(error: unknown): boolean {
  return error instanceof Error && /^WRONGTYPE/.test(error.message)
}

/** The caller's input was refused before any write: rethrown as is, and no breaker failure. */
function isBadInput(error: unknown): boolean {
  return (
    CacheError.is(error, CacheErrorCode.VALUE_TOO_LARGE) || CacheError.is(error, CacheErrorCode.SERIALIZATION)
  )
}

/** What the runner needs of the store's settings. */
interface CommandRunnerSettings {
  name: string
  commandTimeoutMs: number
  connectTimeoutMs: number
  breaker: Required<CircuitBreakerOptions>
  now: () => number
}

/**
 * The one way the store sends commands: on a ready connection of the pool, behind the circuit
 * breaker, under the command deadline (not counting time this process's event loop was blocked),
 * with the outcome counted towards the breaker. Right after construction, calls wait (once, shared,
 * bounded by connectTimeout) for the first connection; afterwards they fail fast.
 *
 * A call that cannot reach Redis ends in one of two ways: {@link run} absorbs the failure (reports
 * it and resolves a fallback: the CacheStore methods), {@link runOrThrow} rejects with it (raw
 * commands of `withClient`, whose caller decides what a failure means).
 */
export class CommandRunner {
  /** The breaker guarding every call; its probe PINGs every master. */
  readonly breaker: CircuitBreaker
  /** When set (RedisStore.trace), each call that reaches Redis runs in a `redis.<operation>` span. */
  tracing: CacheTracing | undefined
  private readonly name: string
  private readonly commandTimeoutMs: number
  private readonly connectTimeoutMs: number
  /** A stall's first timeout has been counted; cleared on the next event-loop turn. */
  private stallCounted = false
  private startWait: Promise<boolean> | undefined
  private startWindowOver = false
  /** The fail-fast calls of an open breaker: the first in full, the repeats as counts. */
  private readonly circuitOpen: CircuitOpenReports

  constructor(
    settings: CommandRunnerSettings,
    private readonly pool: ConnectionPool,
    private readonly events: StoreEvents,
  ) {
    this.name = settings.name
    this.commandTimeoutMs = settings.commandTimeoutMs
    this.connectTimeoutMs = settings.connectTimeoutMs
    this.circuitOpen = new CircuitOpenReports(events)
    this.breaker = new CircuitBreaker(settings.breaker, {
      probe: () => this.probe(),
      onStateChange: (state, previous) => {
        // The repeats belong to the state that ends: reported before the change itself.
        this.circuitOpen.stateChanged(state)
        events.emit({ type: 'breaker', tier: this.name, state, previous })
      },
      now: settings.now,
    })
  }

  /** True while the breaker is closed and at least one connection is ready. */
  available(): boolean {
    return this.breaker.state === 'closed' && this.pool.readyCount() > 0
  }

  /**
   * Runs `fn` on a ready connection behind the breaker. Availability failures resolve `fallback`
   * and are reported; bad input (E_VALUE_TOO_LARGE, E_SERIALIZATION) rejects. `bounded` wraps the
   * whole of `fn` in one deadline (multi-step operations bound each round trip with {@link deadline}).
   */
  run<T>(
    operation: string,
    key: string | undefined,
    fallback: T,
    bounded: boolean,
    fn: (client: RedisClient) => Promise<T>,
  ): Promise<T> {
    return this.execute(true, operation, key, fallback, bounded, fn)
  }

  /**
   * Runs `fn` like {@link run}, under one deadline, but rejects on failure (E_CIRCUIT_OPEN,
   * E_STORE_UNAVAILABLE, E_COMMAND_TIMEOUT, or Redis's own error) instead of absorbing it; nothing is
   * reported. Any reply error counts as Redis answering.
   */
  runOrThrow<T>(operation: string, fn: (client: RedisClient) => Promise<T>): Promise<T> {
    return this.execute(false, operation, undefined, undefined as T, true, fn)
  }

  /** A ready connection, after the first-connection wait right after construction; undefined when none is ready. */
  async readyClient(): Promise<RedisClient | undefined> {
    return this.pool.next() ?? this.firstConnection()
  }

  /**
   * One command's deadline. Time this process's own event loop was blocked is not counted (the
   * deadline restarts once): a busy process has not found Redis slow, and a command held for the
   * tick's batched write (corkUntilNextTick) is not even on its socket until the loop runs again.
   */
  deadline<T>(promise: Promise<T>, operation: string, key?: string): Promise<T> {
    const ms = this.commandTimeoutMs
    return withDeadline(
      promise,
      ms,
      ({ lateMs, forgivenMs }) => {
        const stalled = lateMs > ms / 2
        const blocked = Math.round(forgivenMs + (stalled ? lateMs : 0))
        const error = new CacheTimeoutError(
          `${this.name} ${operation} got no answer within ${ms} ms (commandTimeout)${
            blocked > 0 ? `, not counting ${blocked} ms this process's event loop was blocked` : ''
          }`,
          ms,
          { code: CacheErrorCode.COMMAND_TIMEOUT, key },
        )
        if (stalled) stallTimeouts.add(error)
        return error
      },
      RESTART_AFTER_STALL,
    )
  }

  /**
   * The one code path of both failure modes: `absorb` reports a failure and resolves `fallback`,
   * otherwise it rejects. Absorbing, only a data reply (WRONGTYPE) counts as Redis answering: other
   * reply errors (READONLY, LOADING, OOM...) count against the breaker.
   */
  private async execute<T>(
    absorb: boolean,
    operation: string,
    key: string | undefined,
    fallback: T,
    bounded: boolean,
    fn: (client: RedisClient) => Promise<T>,
  ): Promise<T> {
    if (!this.breaker.allows()) {
      if (!absorb) throw new CacheError(CacheErrorCode.CIRCUIT_OPEN, `${this.name}: circuit open`)
      // The fail-fast path runs for every call of an outage: counted, and reported once then as counts.
      this.circuitOpen.failFast(operation, key)
      return fallback
    }
    const client = this.pool.next() ?? (await this.firstConnection())
    if (client === undefined) {
      this.breaker.recordFailure()
      const error = unavailable(`${this.name}: no connection is ready`, undefined, key)
      if (!absorb) throw error
      this.events.report(operation, error, key)
      return fallback
    }
    corkUntilNextTick(client)
    try {
      const run = () => (bounded ? this.deadline(fn(client), operation, key) : fn(client))
      const tracing = this.tracing
      const result = await (tracing === undefined ? run() : roundTripSpan(tracing, this.name, operation, run))
      this.breaker.recordSuccess()
      return result
    } catch (error) {
      if (isBadInput(error)) throw error
      if (this.pool.isCluster) refreshOnSlotError(client as Cluster, error)
      if (isDataReply(error) || (!absorb && error instanceof Error && error.name === 'ReplyError'))
        this.breaker.recordSuccess()
      else this.recordFailure(error)
      if (!absorb) throw error
      this.events.report(
        operation,
        CacheError.is(error)
          ? error
          : unavailable(`${this.name} ${operation} failed: ${String(error)}`, error, key),
        key,
      )
      return fallback
    }
  }

  /**
   * Only right after construction, before any connection was ever ready: waits (bounded by
   * connectTimeout, one wait shared by every caller) for the first, then returns a ready client.
   * Afterwards: undefined at once, so calls fail fast.
   */
  private async firstConnection(): Promise<RedisClient | undefined> {
    if (this.pool.everReady || this.startWindowOver) return undefined
    this.startWait ??= this.pool.waitReady(this.connectTimeoutMs).then((ok) => {
      this.startWindowOver = true
      return ok
    })
    await this.startWait
    return this.pool.next()
  }

  /**
   * A failure for the breaker. Commands that time out together because this process was blocked
   * count as one failure: a busy process has not found Redis down, and one stall must not open the
   * breaker and turn the next 500 ms of reads into misses. Real slowness still counts per command.
   */
  private recordFailure(error?: unknown): void {
    if (error !== undefined && stallTimeouts.has(error as object)) {
      if (this.stallCounted) return
      this.stallCounted = true
      setImmediate(() => {
        this.stallCounted = false
      })
    }
    this.breaker.recordFailure()
  }

  private async probe(): Promise<void> {
    const client = this.pool.next()
    if (client === undefined) throw unavailable(`${this.name}: no connection is ready`)
    // On a cluster every master must answer: a PING routed to a healthy node proves nothing about a hung one.
    await this.deadline(Promise.all(this.pool.masters(client).map((node) => node.ping())), 'probe')
  }
}
