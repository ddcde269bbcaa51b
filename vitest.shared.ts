import { defineConfig } from 'vitest/config'

/** Tests run on src/ through the source condition: no build of dependencies needed. */
export function packageTestConfig(overrides: { fileParallelism?: boolean; testTimeout?: number } = {}) {
  return defineConfig({
    resolve: { conditions: ['@strata-cache/source'] },
    ssr: { resolve: { conditions: ['@strata-cache/source'] } },
    test: {
      include: ['test/**/*.test.ts'],
      testTimeout: overrides.testTimeout ?? 20_000,
      hookTimeout: 60_000,
      fileParallelism: overrides.fileParallelism ?? true,
      typecheck: { enabled: true, include: ['test/**/*.test-d.ts'] },
    },
  })
}
