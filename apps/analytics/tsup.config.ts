import { defineConfig } from 'tsup'

// An app ships one file: workspace packages are bundled from their sources (so building the app
// needs no package built first); npm dependencies stay external and load from node_modules.
export default defineConfig({
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
