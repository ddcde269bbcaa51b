import { refuseWeakSecret } from './admin-token.ts'
import { envText } from './env-readers.ts'

/**
 * `CACHE_BUS_SECRET`: the secret(s) that sign the invalidation bus's messages (`createCache({ bus:
 * { secret } })`); a pod then drops, counts and reports every unsigned or wrongly signed message.
 * Comma-separated to rotate: the first signs, any verifies. Each is held to the admin token's rule
 * (32+ characters, no whitespace, not a placeholder). Unset: messages are neither signed nor checked.
 * Every pod of an app needs the same value.
 */
export function envBusSecret(env: NodeJS.ProcessEnv): readonly string[] | undefined {
  const value = envText(env, 'CACHE_BUS_SECRET')
  if (value === undefined) return undefined
  const secrets = value.split(',').map((s) => s.trim())
  for (const secret of secrets) refuseWeakSecret('CACHE_BUS_SECRET', secret)
  return secrets
}
