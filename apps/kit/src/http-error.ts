/** An error with the HTTP status to answer and a stable code; the error handler turns it into JSON. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    /** Headers the answer carries (e.g. `retry-after`). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message)
    this.name = 'HttpError'
  }
}

/** 400: something in the request is wrong; the message says what. */
export function badRequest(message: string, code = 'E_BAD_REQUEST'): HttpError {
  return new HttpError(400, code, message)
}

/** 404 naming what was not found. */
export function notFound(message: string): HttpError {
  return new HttpError(404, 'E_NOT_FOUND', message)
}

/** 409: the request is well formed but clashes with what is stored (an overlapping position). */
export function conflict(message: string): HttpError {
  return new HttpError(409, 'E_CONFLICT', message)
}

/** 503: this pod cannot take the work now; `Retry-After` says when to try again (seconds). */
export function serviceUnavailable(message: string, retryAfterSeconds: number, code = 'E_BUSY'): HttpError {
  return new HttpError(503, code, message, { 'retry-after': String(retryAfterSeconds) })
}
