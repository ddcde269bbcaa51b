/** Stable error codes: callers test `error.code` (or `CacheError.is(error, code)`), never the message. */
export const CacheErrorCode = {
  INVALID_KEY: 'E_INVALID_KEY',
  INVALID_PATTERN: 'E_INVALID_PATTERN',
  INVALID_DURATION: 'E_INVALID_DURATION',
  INVALID_OPTION: 'E_INVALID_OPTION',
  SERIALIZATION: 'E_SERIALIZATION',
  VALUE_TOO_LARGE: 'E_VALUE_TOO_LARGE',
  LOADER_TIMEOUT: 'E_LOADER_TIMEOUT',
  COMMAND_TIMEOUT: 'E_COMMAND_TIMEOUT',
  CIRCUIT_OPEN: 'E_CIRCUIT_OPEN',
  STORE_UNAVAILABLE: 'E_STORE_UNAVAILABLE',
  CLOSED: 'E_CLOSED',
  CORRUPT_ENTRY: 'E_CORRUPT_ENTRY',
} as const

export type CacheErrorCode = (typeof CacheErrorCode)[keyof typeof CacheErrorCode]

/** Marks our errors across duplicate ESM/CJS copies of this package, where `instanceof` fails. */
const brand = Symbol.for('@strata-cache/error')

/** Options of the CacheError constructors. */
export interface CacheErrorOptions {
  /** The underlying error, as `error.cause`. @default undefined */
  cause?: unknown
  /** The cache key involved, when there is one. @default undefined */
  key?: string
  /** The option involved, when the error is about configuration. @default undefined */
  option?: string
}

/** Base of every error Strata throws. */
export class CacheError extends Error {
  readonly code: CacheErrorCode
  readonly key: string | undefined
  readonly option: string | undefined
  declare readonly [brand]: true

  constructor(code: CacheErrorCode, message: string, options: CacheErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CacheError'
    this.code = code
    this.key = options.key
    this.option = options.option
    Object.defineProperty(this, brand, { value: true })
  }

  /** True for any Strata error (optionally of one code), even from another copy of this package. */
  static is(error: unknown, code?: CacheErrorCode): error is CacheError {
    if (typeof error !== 'object' || error === null || !(brand in error)) return false
    return code === undefined || (error as CacheError).code === code
  }
}

/** A key or pattern that breaks the key schema; raised before any I/O. */
export class CacheKeyError extends CacheError {
  constructor(message: string, options: CacheErrorOptions & { code?: CacheErrorCode } = {}) {
    super(options.code ?? CacheErrorCode.INVALID_KEY, message, options)
    this.name = 'CacheKeyError'
  }
}

/** A value the serializer cannot encode, or stored bytes it cannot decode. */
export class CacheSerializationError extends CacheError {
  constructor(message: string, options: CacheErrorOptions = {}) {
    super(CacheErrorCode.SERIALIZATION, message, options)
    this.name = 'CacheSerializationError'
  }
}

/** A loader or a command that did not finish within its deadline. */
export class CacheTimeoutError extends CacheError {
  readonly timeoutMs: number
  constructor(
    message: string,
    timeoutMs: number,
    options: CacheErrorOptions & { code?: CacheErrorCode } = {},
  ) {
    super(options.code ?? CacheErrorCode.LOADER_TIMEOUT, message, options)
    this.name = 'CacheTimeoutError'
    this.timeoutMs = timeoutMs
  }
}

/** Invalid configuration: an unknown option, or a value of the wrong kind or range. */
export class CacheOptionError extends CacheError {
  constructor(message: string, options: CacheErrorOptions = {}) {
    super(CacheErrorCode.INVALID_OPTION, message, options)
    this.name = 'CacheOptionError'
  }
}

/** Throws a CacheOptionError naming every key of `options` that is not in `known`. */
export function assertKnownOptions(
  where: string,
  options: object | undefined,
  known: readonly string[],
): void {
  if (options === undefined || options === null) return
  if (typeof options !== 'object') {
    throw new CacheOptionError(`${where}: options must be an object, got ${typeof options}`)
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new CacheOptionError(`${where}: unknown option "${name}" (known options: ${known.join(', ')})`, {
        option: name,
      })
    }
  }
}

const INPUT_ERROR_CODES: ReadonlySet<string> = new Set([
  CacheErrorCode.INVALID_KEY,
  CacheErrorCode.INVALID_PATTERN,
  CacheErrorCode.INVALID_DURATION,
  CacheErrorCode.INVALID_OPTION,
  CacheErrorCode.SERIALIZATION,
  CacheErrorCode.VALUE_TOO_LARGE,
  CacheErrorCode.CLOSED,
])

/** True for a CacheError the caller's input caused (a bad key, option or value, a closed cache): the caller's to fix. */
export function isInputError(error: unknown): boolean {
  return CacheError.is(error) && INPUT_ERROR_CODES.has(error.code)
}
