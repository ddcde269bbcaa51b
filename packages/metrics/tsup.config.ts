import { defineConfig } from 'tsup'
import { packageBuild } from '../../tsup.base.ts'

// Subpath entries let an app that installed only one of the two peer dependencies import its half.
export default defineConfig(
  packageBuild({ entry: ['src/index.ts', 'src/prometheus.ts', 'src/open-telemetry.ts'] }),
)
