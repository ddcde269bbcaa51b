// Resolve hook (module.register) for load-entry.mjs: ESM imports of a bare specifier that
// guard-rules refuses fail as if the package were not installed.
import { fileURLToPath } from 'node:url'
import { packageNameOf, REFUSAL_MARK, refusal } from './guard-rules.mjs'

let denied = []

export function initialize(data) {
  denied = data?.denied ?? []
}

export async function resolve(specifier, context, nextResolve) {
  const parentFile = context.parentURL?.startsWith('file:') ? fileURLToPath(context.parentURL) : undefined
  const reason = refusal(specifier, parentFile, denied)
  if (reason !== null) {
    const error = new Error(
      `Cannot find package '${packageNameOf(specifier)}' imported from ${parentFile} ${REFUSAL_MARK} ${reason}]`,
    )
    error.code = 'ERR_MODULE_NOT_FOUND'
    throw error
  }
  return nextResolve(specifier, context)
}
