import type { CacheStatus, CacheStatusTracker } from '@strata-cache/app-kit'
import { type Cache, defineKey, hashParams } from '@strata-cache/core'
import type { Config } from './config.ts'
import type { Aggregate, EventRepository, UsageEvent } from './event-repository.ts'
import { resolveTimeframe, type TimeframeName } from './timeframe.ts'

/** `analytics:metric:{metric}:{hash}`, the hash of timeframe and filters. */
export const aggregateKey = defineKey('analytics:metric:{metric}:{hash}')

/**
 * The most buckets a cached series holds: with event times bounded (EVENT_MAX_AGE), no named
 * timeframe comes near it (90d has 90, `all` a year of months); only data from before the bound can.
 */
export const MAX_SERIES_BUCKETS = 1_000

export interface AggregateFilters {
  user?: string | undefined
  agent?: string | undefined
  workspace?: string | undefined
}

export interface MetricAggregate extends Aggregate {
  metric: string
  timeframe: string
  filters: AggregateFilters
  from: string | null
  to: string
  computedAt: string
}

/** Tags an entry carries, and those an event invalidates: its metric, user and agent. */
export const tagsOf = {
  metric: (metric: string) => `metric:${metric}`,
  user: (user: string) => `user:${user}`,
  agent: (agent: string) => `agent:${agent}`,
}

/** Cached aggregates with timeframe-based TTLs; new events invalidate what they affect. */
export class AnalyticsService {
  constructor(
    private readonly events: EventRepository,
    private readonly cache: Cache,
    private readonly tracker: CacheStatusTracker,
    private readonly config: Config,
  ) {}

  aggregate(
    metric: string,
    timeframe: TimeframeName,
    filters: AggregateFilters,
  ): Promise<{ value: MetricAggregate; status: CacheStatus }> {
    const spec = resolveTimeframe(timeframe)
    const key = aggregateKey({ metric, hash: hashParams({ timeframe: spec.name, ...filters }) })
    // Every entry of the metric carries its tag; entries filtered by a user or agent carry theirs too.
    const tags = [tagsOf.metric(metric)]
    if (filters.user !== undefined) tags.push(tagsOf.user(filters.user))
    if (filters.agent !== undefined) tags.push(tagsOf.agent(filters.agent))
    return this.tracker.observe(key, () =>
      this.cache.getOrSet(
        key,
        () => {
          const to = Date.now()
          const from = spec.windowMs === undefined ? undefined : to - spec.windowMs
          const result = this.events.aggregate({
            metric,
            fromMs: from,
            toMs: to,
            bucketMs: spec.bucketMs,
            maxBuckets: MAX_SERIES_BUCKETS,
            ...filters,
          })
          return {
            metric,
            timeframe: spec.name,
            filters,
            from: from === undefined ? null : new Date(from).toISOString(),
            to: new Date(to).toISOString(),
            ...result,
            computedAt: new Date(to).toISOString(),
          }
        },
        { ttl: this.config.ttlMs[spec.ttl], tags },
      ),
    )
  }

  /** Writes a batch, then drops the entries of its metrics, users and agents on every pod. */
  async ingest(events: readonly UsageEvent[]): Promise<number> {
    this.events.insert(events)
    const tags = new Set<string>()
    for (const e of events) {
      tags.add(tagsOf.metric(e.metric))
      tags.add(tagsOf.user(e.user))
      tags.add(tagsOf.agent(e.agent))
    }
    return this.cache.invalidateTags([...tags])
  }
}
