import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base.ts'

// shims: the CJS build gets an import.meta.url for load-ioredis.ts's createRequire.
export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/internal.ts'], shims: true }))
