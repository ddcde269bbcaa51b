import type { Options } from 'tsup'

/** The one build every package shares: ESM + CJS + .d.ts from src/index.ts. */
export function packageBuild(overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    treeshake: true,
    // Entry points (index, internal, prometheus…) share one copy of each module: a class bundled
    // into two entries would be two classes, and private-field or instanceof checks across them fail.
    splitting: true,
    ...overrides,
  }
}
