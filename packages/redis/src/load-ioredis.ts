import { createRequire } from 'node:module'
import { CacheOptionError } from '@strata-cache/core'

/** The ioredis module, as `import * as ioredis from 'ioredis'` gives it. */
export type IoredisModule = typeof import('ioredis')

let ioredis: IoredisModule | undefined

/**
 * Loads ioredis (an optional peer dependency) on first use, so that importing a Strata package
 * does not load it, and a service that never talks to Redis need not install it. Throws a
 * CacheOptionError saying what to install when it is missing.
 */
export function loadIoredis(): IoredisModule {
  if (ioredis !== undefined) return ioredis
  try {
    // ioredis is CommonJS: require it, whichever format this file was built to.
    ioredis = createRequire(import.meta.url)('ioredis') as IoredisModule
  } catch (error) {
    if (!isMissing(error)) throw error
    throw new CacheOptionError(
      '@strata-cache/redis needs the ioredis package (npm install ioredis@^5): it is a peer dependency, not installed with it',
      { cause: error },
    )
  }
  return ioredis
}

/** ioredis itself is not installed (not a module ioredis needs, nor an error inside it). */
function isMissing(error: unknown): boolean {
  return (
    (error as { code?: unknown } | null)?.code === 'MODULE_NOT_FOUND' &&
    /Cannot find module 'ioredis'/.test(String((error as Error).message))
  )
}
