import { createHash } from 'node:crypto'
import { CacheErrorCode, CacheKeyError } from './errors.ts'

/** Longest key (or pattern) accepted, in characters. */
export const MAX_KEY_LENGTH = 256
/**
 * Most wildcards (`*` and `?` together) a pattern may hold. Matching is linear in the key whatever
 * the pattern (see compileGlob), but Redis matches SCAN patterns by backtracking, and no honest
 * pattern needs more.
 */
export const MAX_PATTERN_WILDCARDS = 16
const ALLOWED = 'A-Z a-z 0-9 : _ - .'

// A lookup table beats a regex on the hot path and tells us which character was wrong.
const KEY_CHAR = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  if (/[A-Za-z0-9:_\-.]/.test(ch)) KEY_CHAR[c] = 1
}

/** Throws a CacheKeyError that names the key and the offending character. */
export function validateKey(key: string): void {
  if (typeof key !== 'string') {
    throw new CacheKeyError(`invalid cache key: expected a string, got ${describe(key)}`)
  }
  const length = key.length
  if (length === 0) throw new CacheKeyError('invalid cache key "": a key cannot be empty', { key })
  if (length > MAX_KEY_LENGTH) {
    throw new CacheKeyError(
      `invalid cache key "${key.slice(0, 40)}…": ${length} characters, the limit is ${MAX_KEY_LENGTH}`,
      { key },
    )
  }
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i)
    if (c >= 128 || KEY_CHAR[c] === 0)
      throw badCharacter('cache key', key, i, ALLOWED, CacheErrorCode.INVALID_KEY)
  }
}

/** True when validateKey would accept the key. */
export function isValidKey(key: unknown): key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) return false
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    if (c >= 128 || KEY_CHAR[c] === 0) return false
  }
  return true
}

/** A pattern is a key that may also hold the glob characters `*` and `?`, at most {@link MAX_PATTERN_WILDCARDS} of them. */
export function validatePattern(pattern: string): void {
  if (typeof pattern !== 'string') {
    throw new CacheKeyError(`invalid cache pattern: expected a string, got ${describe(pattern)}`, {
      code: CacheErrorCode.INVALID_PATTERN,
    })
  }
  if (pattern.length === 0 || pattern.length > MAX_KEY_LENGTH) {
    throw new CacheKeyError(
      `invalid cache pattern "${pattern.slice(0, 40)}": length ${pattern.length}, must be 1 to ${MAX_KEY_LENGTH}`,
      { key: pattern, code: CacheErrorCode.INVALID_PATTERN },
    )
  }
  let wildcards = 0
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i)
    if (c === 42 /* * */ || c === 63 /* ? */) {
      wildcards++
      continue
    }
    if (c >= 128 || KEY_CHAR[c] === 0) {
      throw badCharacter('cache pattern', pattern, i, `${ALLOWED} * ?`, CacheErrorCode.INVALID_PATTERN)
    }
  }
  if (wildcards > MAX_PATTERN_WILDCARDS) {
    throw new CacheKeyError(
      `invalid cache pattern "${pattern.length > 60 ? `${pattern.slice(0, 60)}…` : pattern}": ${wildcards} wildcards (* and ?), the limit is ${MAX_PATTERN_WILDCARDS}; name more of the key instead`,
      { key: pattern, code: CacheErrorCode.INVALID_PATTERN },
    )
  }
}

/** Tags follow the key alphabet too, so they can be part of Redis key names. */
export function validateTags(tags: readonly string[]): void {
  if (!Array.isArray(tags))
    throw new CacheKeyError(`invalid tags: expected an array of strings, got ${describe(tags)}`)
  for (const tag of tags) {
    if (!isValidKey(tag)) {
      try {
        validateKey(tag)
      } catch (error) {
        throw new CacheKeyError(
          `invalid tag: ${(error as Error).message.replace('invalid cache key ', '')}`,
          {
            // Not String(tag): an object without a usable toString would throw a TypeError here.
            ...(typeof tag === 'string' ? { key: tag } : {}),
            cause: error,
          },
        )
      }
    }
  }
}

function badCharacter(what: string, value: string, index: number, allowed: string, code: CacheErrorCode) {
  const ch = value[index]!
  const shown = ch.charCodeAt(0) < 32 ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : ch
  return new CacheKeyError(
    `invalid ${what} "${value}": character "${shown}" at ${index} is not allowed (allowed: ${allowed})`,
    { key: value, code },
  )
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
}

/**
 * Stable short hash of any JSON-like value, independent of object key order:
 * `hashParams({ a: 1, b: 2 }) === hashParams({ b: 2, a: 1 })`. 16 hex characters (64 bits of SHA-256).
 */
export function hashParams(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16)
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (value === undefined) return 'null'
    if (typeof value === 'bigint') return `"${value.toString()}n"`
    return JSON.stringify(value) ?? 'null'
  }
  if (value instanceof Date) return JSON.stringify(value.toISOString())
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value instanceof Map) return canonicalJson(Object.fromEntries(value))
  if (value instanceof Set) return canonicalJson([...value].map(canonicalJson).sort())
  const keys = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`
}

// ---- Typed key templates -------------------------------------------------------------------------

type ParamNames<S extends string> = S extends `${string}{${infer P}}${infer Rest}`
  ? P | ParamNames<Rest>
  : never

/** Values a template parameter accepts; they are validated against the key alphabet. */
export type KeyParamValue = string | number | bigint | boolean

export type KeyParams<S extends string> = { [P in ParamNames<S>]: KeyParamValue }

export interface KeyBuilder<S extends string> {
  /** Builds the key; throws a CacheKeyError if a parameter is missing or breaks the key alphabet. */
  (params: KeyParams<S>): string
  /** A glob with the given parameters filled and the rest as `*`, for `invalidate()`. */
  pattern(params?: Partial<KeyParams<S>>): string
  /** The bounded label for metrics: the static parts and the first parameter's name, the rest `*`. */
  readonly metricPattern: string
  readonly template: S
  readonly params: readonly ParamNames<S>[]
}

/**
 * Defines a typed key template: `const k = defineKey('thermal:rack:{rackId}:{hash}')`,
 * then `k({ rackId: 123, hash })` and `k.pattern({ rackId: 123 })` → `thermal:rack:123:*`.
 */
export function defineKey<const S extends string>(template: S): KeyBuilder<S> {
  const parts = parseTemplate(template)
  const params = parts.filter((p): p is { param: string } => 'param' in p).map((p) => p.param)
  if (new Set(params).size !== params.length) {
    throw new CacheKeyError(`invalid key template "${template}": a parameter appears twice`, {
      key: template,
    })
  }
  // The template's static text must itself be key characters.
  validatePattern(parts.map((p) => ('text' in p ? p.text : 'x')).join('') || 'x')

  const build = (values: Record<string, unknown>, wildcard: boolean): string => {
    let out = ''
    for (const part of parts) {
      if ('text' in part) {
        out += part.text
        continue
      }
      const v = values?.[part.param]
      if (v === undefined || v === null) {
        if (wildcard) {
          out += '*'
          continue
        }
        throw new CacheKeyError(`key template "${template}": parameter "${part.param}" is missing`, {
          key: template,
        })
      }
      const text = String(v)
      if (text === '' || !isValidKey(text) || text.includes(':')) {
        throw new CacheKeyError(
          `key template "${template}": parameter "${part.param}" = ${JSON.stringify(text)} must be non-empty key characters without ":" (A-Z a-z 0-9 _ - .)`,
          { key: template },
        )
      }
      out += text
    }
    return out
  }

  const builder = ((values: KeyParams<S>) => {
    const key = build(values as Record<string, unknown>, false)
    validateKey(key)
    return key
  }) as KeyBuilder<S>
  builder.pattern = (values = {}) => {
    const pattern = build(values as Record<string, unknown>, true)
    validatePattern(pattern)
    return pattern
  }
  Object.defineProperty(builder, 'template', { value: template })
  Object.defineProperty(builder, 'params', { value: Object.freeze(params) })
  Object.defineProperty(builder, 'metricPattern', {
    value: keyPatternOf(template.replace(/\{[^}]*\}/g, 'x')),
  })
  return builder
}

function parseTemplate(template: string): ({ text: string } | { param: string })[] {
  const parts: ({ text: string } | { param: string })[] = []
  const re = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g
  let last = 0
  for (let m = re.exec(template); m !== null; m = re.exec(template)) {
    if (m.index > last) parts.push({ text: template.slice(last, m.index) })
    parts.push({ param: m[1]! })
    last = m.index + m[0].length
  }
  if (last < template.length) parts.push({ text: template.slice(last) })
  if (parts.some((p) => 'text' in p && /[{}]/.test(p.text))) {
    throw new CacheKeyError(
      `invalid key template "${template}": parameters are written {name} with letters, digits and _`,
      { key: template },
    )
  }
  return parts
}

/**
 * The bounded metric label of a key following `{operation}:{resource}:{id}:{hash}`: the first two
 * segments are kept and everything after becomes `*` (`thermal:rack:123:a1b2` → `thermal:rack:*`).
 * Keys with fewer segments keep their first segment only (`session` → `session`, `user:42` → `user:*`),
 * so an id can never reach a label.
 */
export function keyPatternOf(key: string): string {
  const first = key.indexOf(':')
  if (first === -1) return looksLikeId(key) ? '*' : key
  const second = key.indexOf(':', first + 1)
  const head = key.slice(0, first)
  if (second === -1) return `${looksLikeId(head) ? '*' : head}:*`
  const resource = key.slice(first + 1, second)
  return `${looksLikeId(head) ? '*' : head}:${looksLikeId(resource) ? '*' : resource}:*`
}

// Digits, UUID-ish or long hex segments are ids, not names.
function looksLikeId(segment: string): boolean {
  return /\d/.test(segment) || segment.length > 32
}
