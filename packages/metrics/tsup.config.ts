import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base.ts'

// Subpath entries let an app that installed only one of the two peer dependencies import its half;
// the root loads each peer on first use through createRequire(import.meta.url), which the CJS
// build gets from tsup's shims.
export default defineConfig(
  packageBuild({ entry: ['src/index.ts', 'src/prometheus.ts', 'src/open-telemetry.ts'], shims: true }),
)
