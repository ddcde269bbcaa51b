import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Db, openDatabase } from '../src/database.ts'
import { readEvents } from '../src/event-input.ts'
import { EventRepository, type UsageEvent } from '../src/event-repository.ts'

const DAY = 86_400_000
let dir: string
let db: Db
let events: EventRepository

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'analytics-repo-'))
  db = openDatabase(join(dir, 'analytics.db'))
  events = new EventRepository(db)
})

afterAll(() => {
  db?.close()
  rmSync(dir, { recursive: true, force: true })
})

function event(timeMs: number, overrides: Partial<UsageEvent> = {}): UsageEvent {
  return { workspace: 'w', user: 'u', agent: 'a', metric: 'series', value: 1, timeMs, ...overrides }
}

describe('EventRepository.aggregate', () => {
  it('caps the series at maxBuckets, keeps the earliest, and still counts every event', () => {
    const now = Date.now()
    events.insert(Array.from({ length: 30 }, (_, i) => event(now - i * DAY)))
    const capped = events.aggregate({
      metric: 'series',
      fromMs: undefined,
      toMs: now,
      bucketMs: DAY,
      maxBuckets: 10,
    })
    expect(capped.count).toBe(30)
    expect(capped.series).toHaveLength(10)
    expect(capped.seriesTruncated).toBe(true)
    const starts = capped.series.map((b) => Date.parse(b.bucketStart))
    expect(starts).toEqual([...starts].sort((a, b) => a - b))
    const whole = events.aggregate({
      metric: 'series',
      fromMs: undefined,
      toMs: now,
      bucketMs: DAY,
      maxBuckets: 1_000,
    })
    expect(whole.series).toHaveLength(30)
    expect(whole.seriesTruncated).toBe(false)
    expect(whole.series.slice(0, 10)).toEqual(capped.series)
  })

  it.each([
    [{}, 'events_metric_time'],
    [{ user: 'u' }, 'events_metric_user_time'],
    [{ agent: 'a' }, 'events_metric_agent_time'],
    [{ workspace: 'w' }, 'events_metric_workspace_time'],
  ])('reads %o through an index (%s), never the whole table', (filters, index) => {
    const where = [
      'metric = ?',
      'time_ms <= ?',
      'time_ms >= ?',
      ...Object.keys(filters).map((c) => `${c} = ?`),
    ]
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT COUNT(*), TOTAL(value), MIN(value), MAX(value) FROM events WHERE ${where.join(' AND ')}`,
      )
      .all('m', 1, 0, ...Object.values(filters)) as { detail: string }[]
    const details = plan.map((row) => row.detail).join(' | ')
    expect(details).toMatch(new RegExp(`^SEARCH events USING (COVERING )?INDEX ${index} `))
    expect(details).not.toMatch(/SCAN events(?! USING)/)
  })
})

describe('readEvents', () => {
  const now = Date.parse('2026-06-01T12:00:00Z')
  const window = { maxAgeMs: 366 * DAY, maxAheadMs: 5 * 60_000 }
  const base = { workspace: 'w', user: 'u', agent: 'a', metric: 'm', value: 1 }

  it('accepts times within the window and stamps events without one', () => {
    const read = readEvents(
      [{ ...base, time: '2025-06-01T12:00:00Z' }, { ...base, time: '2026-06-01T12:04:00Z' }, { ...base }],
      now,
      window,
    )
    expect(read.map((e) => e.timeMs)).toEqual([Date.parse('2025-06-01T12:00:00Z'), now + 4 * 60_000, now])
  })

  it('refuses a time out of the window, naming the event and the window', () => {
    expect(() => readEvents({ ...base, time: '1970-01-01T00:00:00Z' }, now, window)).toThrow(
      'event.time must lie from 2025-05-31T12:00:00.000Z to 2026-06-01T12:05:00.000Z (EVENT_MAX_AGE back, EVENT_MAX_AHEAD ahead), got "1970-01-01T00:00:00Z"',
    )
    expect(() =>
      readEvents({ events: [{ ...base }, { ...base, time: '2026-06-01T13:00:00Z' }] }, now, window),
    ).toThrow('events[1].time must lie from')
  })
})
