import { badRequest } from '@strata-cache/app-kit'
import type { UsageEvent } from './event-repository.ts'

/** Names end up in cache keys and tags: the key alphabet without ":" (and at most 64 characters). */
const NAME = /^[A-Za-z0-9_.-]{1,64}$/
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/
export const MAX_BATCH = 1_000

/** Checks a name from a request (metric, user, agent, workspace), with a 400 naming the field. */
export function parseName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw badRequest(
      `${field} must be 1 to 64 characters of A-Z a-z 0-9 _ . - , got ${JSON.stringify(value) ?? 'nothing'}`,
      'E_INVALID_NAME',
    )
  }
  return value
}

/**
 * Reads `POST /api/v1/events`: one event, an array, or `{ "events": [...] }` (at most 1000).
 * Every event is checked before any is written, so a bad batch writes nothing.
 */
export function parseEvents(body: unknown, now: number): UsageEvent[] {
  const list = Array.isArray(body)
    ? body
    : typeof body === 'object' && body !== null && Array.isArray((body as { events?: unknown }).events)
      ? (body as { events: unknown[] }).events
      : [body]
  if (list.length === 0 || list.length > MAX_BATCH) {
    throw badRequest(`a batch holds 1 to ${MAX_BATCH} events, got ${list.length}`, 'E_INVALID_EVENT')
  }
  return list.map((raw, i) =>
    parseEvent(raw, list.length === 1 && !Array.isArray(body) ? 'event' : `events[${i}]`, now),
  )
}

function parseEvent(raw: unknown, at: string, now: number): UsageEvent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw badRequest(
      `${at} must be an object with workspace, user, agent, metric, value and time`,
      'E_INVALID_EVENT',
    )
  }
  const e = raw as Record<string, unknown>
  const known = ['workspace', 'user', 'agent', 'metric', 'value', 'time']
  const unknown = Object.keys(e).find((k) => !known.includes(k))
  if (unknown !== undefined)
    throw badRequest(
      `${at}.${unknown} is not a field of an event (fields: ${known.join(', ')})`,
      'E_INVALID_EVENT',
    )
  if (typeof e.value !== 'number' || !Number.isFinite(e.value)) {
    throw badRequest(
      `${at}.value must be a finite number, got ${JSON.stringify(e.value) ?? 'nothing'}`,
      'E_INVALID_EVENT',
    )
  }
  let timeMs = now
  if (e.time !== undefined) {
    const parsed = typeof e.time === 'string' && ISO_8601.test(e.time) ? Date.parse(e.time) : Number.NaN
    if (Number.isNaN(parsed)) {
      throw badRequest(
        `${at}.time must be an ISO 8601 date-time such as "2026-01-31T12:00:00Z", got ${JSON.stringify(e.time)}`,
        'E_INVALID_EVENT',
      )
    }
    timeMs = parsed
  }
  return {
    workspace: parseName(e.workspace, `${at}.workspace`),
    user: parseName(e.user, `${at}.user`),
    agent: parseName(e.agent, `${at}.agent`),
    metric: parseName(e.metric, `${at}.metric`),
    value: e.value,
    timeMs,
  }
}
