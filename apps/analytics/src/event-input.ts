import { badRequest } from '@strata-cache/app-kit'
import type { UsageEvent } from './event-repository.ts'

export const MAX_BATCH = 1_000

/**
 * A name from a request (metric, user, agent, workspace). Names end up in cache keys and tags: the
 * key alphabet without ":", at most 64 characters; anything else is a 400 `E_INVALID_NAME`.
 */
export const nameSchema = {
  type: 'string',
  pattern: '^[A-Za-z0-9_.-]{1,64}$',
  description: '1 to 64 characters of A-Z a-z 0-9 _ . -',
  errorCode: 'E_INVALID_NAME',
} as const

/** A calendar date and time with its offset; every string it accepts is a date Date.parse reads. */
export const ISO_8601 =
  '^\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d(\\.\\d{1,9})?)?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)$'

/** One event as sent: `time` is an ISO 8601 string, and absent means now. */
export interface EventInput {
  workspace: string
  user: string
  agent: string
  metric: string
  value: number
  time?: string
}

/** What `POST /api/v1/events` takes: one event, an array, or `{ "events": [...] }`. */
export type EventsBody = EventInput | EventInput[] | { events: EventInput[] }

const eventSchema = {
  type: 'object',
  required: ['workspace', 'user', 'agent', 'metric', 'value'],
  additionalProperties: false,
  description: 'an object with workspace, user, agent, metric, value and time',
  errorCode: 'E_INVALID_EVENT',
  properties: {
    workspace: nameSchema,
    user: nameSchema,
    agent: nameSchema,
    metric: nameSchema,
    value: { type: 'number', description: 'a finite number' },
    time: {
      type: 'string',
      pattern: ISO_8601,
      description: 'an ISO 8601 date-time such as "2026-01-31T12:00:00Z"',
    },
  },
} as const

const batchSchema = {
  type: 'array',
  minItems: 1,
  maxItems: MAX_BATCH,
  items: eventSchema,
  errorCode: 'E_INVALID_EVENT',
  description: `an array of 1 to ${MAX_BATCH} events`,
} as const

/**
 * The body schema of `POST /api/v1/events`. Every event is checked before any is written, so a bad
 * batch writes nothing; a 400 names the event and field (`event.time`, `events[1].time`).
 */
export const eventsBodySchema = {
  if: { type: 'array' },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else
  then: { ...batchSchema, title: 'events' },
  else: {
    if: { type: 'object', required: ['events'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else
    then: { type: 'object', properties: { events: batchSchema } },
    else: { ...eventSchema, title: 'event' },
  },
} as const

/** The times an event may carry, relative to the server's clock. */
export interface EventWindow {
  /** How far back; older events are refused. */
  maxAgeMs: number
  /** How far ahead (clock skew); later events are refused. */
  maxAheadMs: number
}

/**
 * The events of a body that passed {@link eventsBodySchema}, each stamped `now` unless it has a
 * time. A time outside `window` is a 400 `E_INVALID_EVENT` naming the event (`events[3].time`), and
 * nothing of the batch is written: bounded times bound the buckets of every series, `all` included.
 */
export function readEvents(body: EventsBody, now: number, window: EventWindow): UsageEvent[] {
  const single = !Array.isArray(body) && !('events' in body)
  const list = Array.isArray(body) ? body : 'events' in body ? body.events : [body]
  const earliest = now - window.maxAgeMs
  const latest = now + window.maxAheadMs
  return list.map(({ time, ...event }, index) => {
    const timeMs = time === undefined ? now : Date.parse(time)
    if (timeMs < earliest || timeMs > latest) {
      const name = single ? 'event.time' : `events[${index}].time`
      throw badRequest(
        `${name} must lie from ${new Date(earliest).toISOString()} to ${new Date(latest).toISOString()} (EVENT_MAX_AGE back, EVENT_MAX_AHEAD ahead), got ${JSON.stringify(time)}`,
        'E_INVALID_EVENT',
      )
    }
    return { ...event, timeMs }
  })
}
