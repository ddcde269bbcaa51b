// Checks what we ship, after `pnpm build`; each step is a file under check-packages/:
// - publint and @arethetypeswrong on each publishable package's packed tarball;
// - entry-points: each `exports` entry gives the same names to import and require, and loads with
//   only the packages its package declares and without the optional peers it does not need;
// - shared-modules: a package's entry points share each module (no class bundled twice);
// - readme-api: each README's `## API` section lists exactly what src/index.ts exports.
import { rmSync } from 'node:fs'
import { checkEntryPoints } from './check-packages/entry-points.mjs'
import { packAll } from './check-packages/packed.mjs'
import { checkPackedTypes } from './check-packages/packed-types.mjs'
import { checkPublint } from './check-packages/publint.mjs'
import { checkReadmeApi } from './check-packages/readme-api.mjs'
import { checkSharedModules } from './check-packages/shared-modules.mjs'
import { publishablePackages } from './check-packages/workspace.mjs'

const packages = publishablePackages()
const failures = []
const timings = []
const step = async (name, check) => {
  const start = performance.now()
  failures.push(...(await check()))
  timings.push(`${name} ${((performance.now() - start) / 1000).toFixed(1)} s`)
}

let packed
await step('pack', async () => {
  packed = await packAll(packages)
  return []
})
try {
  await step('publint', () => checkPublint(packages, packed.tarballs))
  await step('attw', () => checkPackedTypes(packages, packed.tarballs))
} finally {
  rmSync(packed.destination, { recursive: true, force: true })
}
await step('entry points', () => checkEntryPoints(packages))
await step('shared modules', async () => checkSharedModules(packages))
await step('README API', () => checkReadmeApi(packages))

for (const failure of failures) console.error(`✗ ${failure}`)
console.log(`check-packages: ${timings.join(', ')}`)
if (failures.length > 0) console.error(`check-packages: ${failures.length} problem(s)`)
process.exit(failures.length === 0 ? 0 : 1)
