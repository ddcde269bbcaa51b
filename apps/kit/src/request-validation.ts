import { Ajv, type AnySchema } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'
import { HttpError } from './http-error.ts'
import { type HttpPart, validationError } from './validation-error.ts'

/** Keywords an app's schema may carry besides JSON Schema's own; validation-error.ts reads them. */
const MESSAGE_KEYWORDS = ['errorCode', 'errorMessage']

function createAjv(coerceTypes: boolean): Ajv {
  return new Ajv({
    coerceTypes,
    useDefaults: true,
    removeAdditional: false,
    // One error is enough to answer, and checking everything of a hostile body costs more.
    allErrors: false,
    // The failing value and schema, for the message.
    verbose: true,
    keywords: MESSAGE_KEYWORDS,
  })
}

/**
 * The validator compiler of every app's routes (`schema: { params, querystring, body }`). A body
 * is checked as sent: `"42"` is not a number and `42` is not a name. Path parameters and query
 * strings are text on the wire, so they are read as their schema's type: `"42"` becomes the
 * integer 42 for `{ type: 'integer' }`, and an empty query value (`?limit=`) counts as absent. A failure is a 400 {@link HttpError} whose message names
 * the value and says what it must be (see {@link validationError}).
 */
export function requestValidatorCompiler(): FastifySchemaCompiler<AnySchema> {
  const asSent = createAjv(false)
  const fromText = createAjv(true)
  return ({ schema, httpPart }) => {
    const part = (httpPart ?? 'body') as HttpPart
    const validate = (part === 'body' ? asSent : fromText).compile(schema)
    return (data: unknown) => {
      if (part === 'querystring') {
        // `?limit=` says nothing: the parameter is absent, and its default (if any) applies.
        dropEmptyValues(data)
        const repeated = repeatedParameter(data, schema)
        if (repeated !== undefined) return { error: repeated }
      }
      // Reading text as a number rewrites the request's values in place: keep them as sent.
      const sent = part !== 'body' && data !== null && typeof data === 'object' ? { ...data } : data
      if (validate(data)) return true
      return { error: validationError(validate.errors?.[0], schema, part, sent) }
    }
  }
}

/**
 * `?q=a&q=b` arrives as an array: unless the schema asks for one, that is a 400 naming the parameter
 * (Ajv's own words would be "must be string", which hides what happened).
 */
function repeatedParameter(query: unknown, schema: unknown): HttpError | undefined {
  if (query === null || typeof query !== 'object') return undefined
  const root = (schema ?? {}) as { properties?: Record<string, { type?: unknown }>; errorCode?: unknown }
  for (const [name, value] of Object.entries(query)) {
    if (!Array.isArray(value) || root.properties?.[name]?.type === 'array') continue
    const code = typeof root.errorCode === 'string' ? root.errorCode : 'E_VALIDATION'
    return new HttpError(400, code, `query parameter ${name} is given ${value.length} times: give it once`)
  }
  return undefined
}

function dropEmptyValues(query: unknown): void {
  if (query === null || typeof query !== 'object') return
  const values = query as Record<string, unknown>
  for (const name of Object.keys(values)) if (values[name] === '') delete values[name]
}
