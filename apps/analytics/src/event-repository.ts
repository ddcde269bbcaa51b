import type { Db } from './database.ts'

/** One usage event as ingested. */
export interface UsageEvent {
  workspace: string
  user: string
  agent: string
  metric: string
  value: number
  /** Epoch ms. */
  timeMs: number
}

export interface AggregateQuery {
  metric: string
  /** The most buckets the series holds; the totals still count every event. */
  maxBuckets: number
  /** Inclusive lower bound, epoch ms; undefined for all time. */
  fromMs: number | undefined
  toMs: number
  bucketMs: number
  user?: string | undefined
  agent?: string | undefined
  workspace?: string | undefined
}

export interface Aggregate {
  count: number
  sum: number
  avg: number | null
  min: number | null
  max: number | null
  /** Buckets in time order, at most `maxBuckets` of them (the earliest). */
  series: { bucketStart: string; count: number; sum: number }[]
  /** True when more buckets had events than `maxBuckets`. */
  seriesTruncated: boolean
}

/** Events in SQLite; a batch is written in one transaction, so every pod sees all of it or none. */
export class EventRepository {
  constructor(private readonly db: Db) {}

  insert(events: readonly UsageEvent[]): void {
    const insert = this.db.prepare(
      'INSERT INTO events (workspace, user, agent, metric, value, time_ms) VALUES (?, ?, ?, ?, ?, ?)',
    )
    this.db
      .transaction(() => {
        for (const e of events) insert.run(e.workspace, e.user, e.agent, e.metric, e.value, e.timeMs)
      })
      .immediate()
  }

  aggregate(q: AggregateQuery): Aggregate {
    const where = ['metric = ?', 'time_ms <= ?']
    const params: (string | number)[] = [q.metric, q.toMs]
    if (q.fromMs !== undefined) {
      where.push('time_ms >= ?')
      params.push(q.fromMs)
    }
    for (const column of ['user', 'agent', 'workspace'] as const) {
      const value = q[column]
      if (value !== undefined) {
        where.push(`${column} = ?`)
        params.push(value)
      }
    }
    const clause = where.join(' AND ')
    const totals = this.db
      .prepare(
        `SELECT COUNT(*) AS count, TOTAL(value) AS sum, MIN(value) AS min, MAX(value) AS max FROM events WHERE ${clause}`,
      )
      .get(...params) as { count: number; sum: number; min: number | null; max: number | null }
    const buckets = this.db
      .prepare(
        // The bucket size is bound as a JS number (a REAL): CAST keeps the division an integer one.
        `SELECT (time_ms / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS bucket, COUNT(*) AS count, TOTAL(value) AS sum
         FROM events WHERE ${clause} GROUP BY bucket ORDER BY bucket LIMIT ?`,
      )
      .all(q.bucketMs, q.bucketMs, ...params, q.maxBuckets + 1) as {
      bucket: number
      count: number
      sum: number
    }[]
    const seriesTruncated = buckets.length > q.maxBuckets
    if (seriesTruncated) buckets.length = q.maxBuckets
    return {
      count: totals.count,
      sum: totals.sum,
      avg: totals.count === 0 ? null : totals.sum / totals.count,
      min: totals.min,
      max: totals.max,
      series: buckets.map((b) => ({
        bucketStart: new Date(b.bucket).toISOString(),
        count: b.count,
        sum: b.sum,
      })),
      seriesTruncated,
    }
  }
}
