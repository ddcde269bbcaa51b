import { mergeConfig } from 'vitest/config'
import { packageTestConfig } from '../../vitest.shared.ts'

// Test files start their own pods and Redis: one file at a time, so they do not fight for the 2 CPUs.
export default mergeConfig(packageTestConfig({ fileParallelism: false, testTimeout: 30_000 }), {
  test: { globalSetup: ['test/global-setup.ts'] },
})
