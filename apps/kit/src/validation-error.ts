import type { ErrorObject } from 'ajv'
import { HttpError } from './http-error.ts'

/** The part of a request a schema checks. */
export type HttpPart = 'body' | 'params' | 'querystring' | 'headers'

type Schema = Readonly<Record<string, unknown>>

/** Where the walk down the schema is: the value's name, and what its schema says about it. */
interface Place {
  schema: Schema
  label: string
  code: string
  description: string | undefined
  errorMessage: string | undefined
}

const WHOLE: Record<HttpPart, string> = {
  body: 'the body',
  params: 'the path',
  querystring: 'the query string',
  headers: 'the headers',
}
// Keywords whose subschema checks the same value, and those that hold a list of such subschemas.
const SAME_VALUE = new Set(['if', 'then', 'else', 'not'])
const SAME_VALUE_LISTS = new Set(['allOf', 'anyOf', 'oneOf'])
const MAX_SHOWN = 80

/**
 * The 400 for the first thing a request got wrong, from what its schema says:
 *
 * - a value is named by its place (`heightU`, `events[1].time`, `query parameter limit`) or by its
 *   schema's `title` (`rack id`); a title also names what lies below it (`event.time`);
 * - its schema's `description` says what it must be: `rack id must be a positive integer, got "abc"`
 *   (without one, Ajv's words: `must be integer`);
 * - `errorMessage` replaces the whole message, `{value}` standing for the value as sent;
 * - `errorCode` is the answer's code, for the value and what lies below it (default `E_VALIDATION`).
 */
export function validationError(
  error: ErrorObject | undefined,
  root: unknown,
  part: HttpPart,
  sent: unknown,
): HttpError {
  if (error === undefined) return new HttpError(400, 'E_VALIDATION', `${WHOLE[part]} is not valid`)
  const instance = pointer(error.instancePath)
  let place = walk(root, error.schemaPath, instance, part)
  let value = valueAt(sent, instance)

  if (error.keyword === 'additionalProperties') {
    const extra = String(error.params.additionalProperty)
    const fields = Object.keys(asSchema(place.schema.properties)).join(', ')
    if (part === 'querystring' && place.label === '') {
      const accepted = fields === '' ? 'this endpoint takes no query parameters' : `accepted: ${fields}`
      return new HttpError(400, place.code, `query parameter ${extra} is not accepted (${accepted})`)
    }
    const of = place.label === '' ? '' : ` of ${place.label}`
    return new HttpError(
      400,
      place.code,
      `${childLabel(place.label, extra, part)} is not a field${of} (fields: ${fields})`,
    )
  }
  if (error.keyword === 'required') {
    const missing = String(error.params.missingProperty)
    place = step(place, asSchema(place.schema.properties)[missing], childLabel(place.label, missing, part))
    value = undefined
  }
  const shown = show(value)
  if (place.errorMessage !== undefined) {
    return new HttpError(400, place.code, place.errorMessage.replaceAll('{value}', shown))
  }
  const predicate =
    place.description !== undefined ? `must be ${place.description}` : (error.message ?? 'is not valid')
  return new HttpError(400, place.code, `${place.label || WHOLE[part]} ${predicate}, got ${shown}`)
}

/** Follows the failing keyword's schema path from the root, naming the value on the way. */
function walk(root: unknown, schemaPath: string, instance: readonly string[], part: HttpPart): Place {
  const steps = pointer(schemaPath.replace(/^#/, ''))
  steps.pop() // the failing keyword itself
  let place = same(
    { schema: {}, label: '', code: 'E_VALIDATION', description: undefined, errorMessage: undefined },
    root,
  )
  let depth = 0
  for (let i = 0; i < steps.length; i++) {
    const keyword = steps[i]!
    if (keyword === 'properties') {
      const name = steps[++i] ?? ''
      place = step(place, asSchema(place.schema.properties)[name], childLabel(place.label, name, part))
      depth++
    } else if (keyword === 'items') {
      place = step(place, place.schema.items, `${place.label}[${instance[depth] ?? ''}]`)
      depth++
    } else if (SAME_VALUE.has(keyword)) {
      place = same(place, place.schema[keyword])
    } else if (SAME_VALUE_LISTS.has(keyword)) {
      const list = place.schema[keyword]
      place = same(place, Array.isArray(list) ? list[Number(steps[++i])] : undefined)
    } else {
      break // a construct this walk does not follow ($ref, patternProperties): name what we have
    }
  }
  return place
}

/** Into a value below: it keeps the code, and says for itself what it must be. */
function step(place: Place, schema: unknown, label: string): Place {
  return same({ ...place, label, description: undefined, errorMessage: undefined }, schema)
}

/** Another schema of the same value: what it says adds to (or overrides) what is known. */
function same(place: Place, schema: unknown): Place {
  const s = asSchema(schema)
  return {
    schema: s,
    label: typeof s.title === 'string' ? s.title : place.label,
    code: typeof s.errorCode === 'string' ? s.errorCode : place.code,
    description: typeof s.description === 'string' ? s.description : place.description,
    errorMessage: typeof s.errorMessage === 'string' ? s.errorMessage : place.errorMessage,
  }
}

function childLabel(parent: string, name: string, part: HttpPart): string {
  if (parent !== '') return `${parent}.${name}`
  return part === 'querystring' ? `query parameter ${name}` : name
}

function asSchema(value: unknown): Schema {
  return value !== null && typeof value === 'object' ? (value as Schema) : {}
}

/** The segments of a JSON pointer (`/events/1/time`). */
function pointer(path: string): string[] {
  if (path === '') return []
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
}

function valueAt(data: unknown, segments: readonly string[]): unknown {
  let value = data
  for (const segment of segments) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[segment]
  }
  return value
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? 'nothing'
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text
}
