/**
 * A path parameter holding a positive 32-bit id, read as a number. Anything else (`0`, `01`, `1.5`,
 * `abc`, `2147483648`) is a 400 `E_INVALID_ID`: `<title> must be a positive integer, got "abc"`.
 */
export function idParam(title: string) {
  return {
    title,
    description: 'a positive integer',
    errorCode: 'E_INVALID_ID',
    // As written in the path (digits, no sign, no leading zero), then as a number within 32 bits.
    allOf: [
      { type: 'string', pattern: '^[1-9][0-9]{0,9}$' },
      { type: 'integer', maximum: 2_147_483_647 },
    ],
  } as const
}

/**
 * The body of the invalidate-by-pattern endpoints, `{ "pattern": "<glob>" }`; a missing or
 * non-string pattern is a 400 `E_INVALID_PATTERN` (`invalidatePattern` checks the glob itself).
 */
export const patternBody = {
  type: 'object',
  required: ['pattern'],
  additionalProperties: false,
  errorCode: 'E_INVALID_PATTERN',
  description: 'an object such as {"pattern": "rack:12:*"}',
  properties: {
    pattern: { type: 'string', description: 'a glob of key characters and * ? (e.g. "rack:12:*")' },
  },
} as const
