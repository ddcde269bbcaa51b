import { createRequire } from 'node:module'
import { CacheOptionError } from '@strata-cache/core'

/** The optional peer dependencies the root entry loads on first use. */
export type OptionalPeer = 'prom-client' | '@opentelemetry/api'

let load: NodeJS.Require | undefined

/**
 * Loads an optional peer dependency when `where` (the exporter) is first called, so that importing
 * `@strata-cache/metrics` loads neither. When it is not installed, throws a CacheOptionError naming
 * the package and how to install it.
 */
export function loadOptionalPeer<T>(name: OptionalPeer, where: string): T {
  load ??= createRequire(import.meta.url)
  try {
    return load(name) as T
  } catch (error) {
    if (!isMissing(error, name)) throw error
    throw new CacheOptionError(
      `${where} needs the optional peer dependency "${name}", which is not installed: run \`pnpm add ${name}\` (or \`npm install ${name}\`), or import the exporter of the peer you have from its own entry (@strata-cache/metrics/prometheus or /open-telemetry)`,
      { cause: error },
    )
  }
}

function isMissing(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes(`'${name}'`)
}
