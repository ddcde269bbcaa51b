import { badRequest } from './http-error.ts'

/** Parses a positive integer id from a path parameter, or throws a 400 naming the parameter. */
export function parseId(value: string, what: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(value) || Number(value) > 2_147_483_647) {
    throw badRequest(`${what} must be a positive integer, got ${JSON.stringify(value)}`, 'E_INVALID_ID')
  }
  return Number(value)
}
