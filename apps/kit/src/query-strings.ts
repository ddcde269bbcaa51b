import type { RouteOptions } from 'fastify'

/** The querystring schema of a route that takes no query parameters: any parameter is a 400. */
export const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const

/**
 * An `onRoute` hook: every route gets a querystring schema, {@link noQuery} when it declares none,
 * so no query parameter reaches a handler unchecked (an unknown or repeated one is a 400).
 */
export function requireQuerySchema(route: RouteOptions): void {
  const schema = route.schema ?? {}
  if (schema.querystring !== undefined || (schema as { query?: unknown }).query !== undefined) return
  route.schema = { ...schema, querystring: noQuery }
}
