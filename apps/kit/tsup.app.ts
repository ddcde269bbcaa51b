import { defineConfig } from 'tsup'

/**
 * The build of a demo app: one file, `dist/main.js`. Workspace packages (this kit included) are
 * bundled from their sources, so building the app needs no package built first; npm dependencies
 * stay external and load from the app's node_modules.
 */
export function appBuild() {
  return defineConfig({
    entry: ['src/main.ts'],
    format: ['esm'],
    dts: false,
    clean: true,
    sourcemap: true,
    target: 'node20',
    platform: 'node',
    splitting: false,
    noExternal: [/^@strata-cache\//],
    esbuildOptions(options) {
      options.conditions = ['@strata-cache/source']
    },
  })
}
