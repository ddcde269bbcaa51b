import type { CacheCounters } from './cache-counters.ts'
import type { CacheEventMap, CacheEvents, CacheOperation } from './events.ts'
import type { InvalidationScope, LoaderRuns } from './loader-run.ts'
import { type CacheTracing, traced } from './tracing.ts'

/** Emits an `operation` event timing a facade call that began at `started` (its performance.now()). */
export function emitOperation(
  events: CacheEvents,
  operation: CacheOperation,
  started: number,
  key?: string,
  tier?: string,
): void {
  const event: CacheEventMap['operation'] = { operation, durationMs: performance.now() - started }
  if (key !== undefined) event.key = key
  if (tier !== undefined) event.tier = tier
  events.emit('operation', event)
}

/**
 * The one path of every local pattern, tags or clear invalidation of a Cache: the shared reads and
 * running loaders it touches are dropped first (so nothing read before it is served or written
 * after it), then the store removes; a store failure is reported, never thrown.
 */
export function applyInvalidation(
  host: InvalidationHost,
  operation: 'invalidate' | 'invalidateTags' | 'clear',
  scope: InvalidationScope,
  remove: () => Promise<number>,
): Promise<number> {
  return traced(host.tracing(), operation, undefined, () => apply(host, operation, scope, remove))
}

/** What an invalidation needs of its Cache. */
interface InvalidationHost {
  readonly loads: LoaderRuns
  readonly counters: CacheCounters
  readonly events: CacheEvents
  tracing(): CacheTracing | undefined
}

async function apply(
  host: InvalidationHost,
  operation: 'invalidate' | 'invalidateTags' | 'clear',
  scope: InvalidationScope,
  remove: () => Promise<number>,
): Promise<number> {
  const { loads, counters, events } = host
  const started = events.has('operation') ? performance.now() : 0
  loads.invalidate(scope)
  let count = 0
  try {
    count = await remove()
  } catch (error) {
    counters.error(operation, error)
  }
  counters.invalidations++
  if (events.has('invalidate')) {
    events.emit(
      'invalidate',
      scope.kind === 'clear' ? { ...scope, source: 'local' } : { ...scope, source: 'local', count },
    )
  }
  if (started !== 0) emitOperation(events, operation, started)
  return count
}
