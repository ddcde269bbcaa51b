import { ConfigError } from './config-error.ts'
import { envText } from './env-readers.ts'

/** The fewest characters an admin token may have: 32 random characters are beyond guessing. */
export const MIN_ADMIN_TOKEN_LENGTH = 32

/**
 * Values the examples show (deploy/, READMEs): a service started with one of them would be open to
 * anyone who read the examples, so they are refused like a short token.
 */
export const PLACEHOLDER_TOKENS: readonly string[] = [
  'change-me',
  'change-me-too',
  'changeme',
  'replace-with-the-output-of-openssl-rand-hex-32',
]

/**
 * `CACHE_ADMIN_TOKEN`: unset means the admin endpoints are disabled. A token shorter than 32
 * characters, with whitespace, or equal to an example's placeholder is a ConfigError (the process
 * refuses to start); the message never repeats the token.
 */
export function envAdminToken(env: NodeJS.ProcessEnv): string | undefined {
  const token = envText(env, 'CACHE_ADMIN_TOKEN')
  if (token !== undefined) refuseWeakSecret('CACHE_ADMIN_TOKEN', token)
  return token
}

/**
 * Throws a ConfigError naming `variable` when `secret` is an example's placeholder, holds
 * whitespace or is shorter than {@link MIN_ADMIN_TOKEN_LENGTH}; the message never repeats it.
 */
export function refuseWeakSecret(variable: string, secret: string): void {
  const advice = 'set a secret of your own, e.g. the output of `openssl rand -hex 32`'
  if (PLACEHOLDER_TOKENS.includes(secret.toLowerCase())) {
    throw new ConfigError(
      variable,
      `${variable} is the placeholder ${JSON.stringify(secret)} from the examples: ${advice}`,
    )
  }
  if (/\s/.test(secret)) {
    throw new ConfigError(variable, `${variable} must not contain whitespace: ${advice}`)
  }
  if (secret.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ConfigError(
      variable,
      `${variable} is ${secret.length} characters long, fewer than ${MIN_ADMIN_TOKEN_LENGTH}: ${advice}`,
    )
  }
}
