// @arethetypeswrong/cli on each publishable package's packed tarball (what npm users get), with the
// profile in /.attw.json: node16 (ESM and CJS) and bundler; node10 resolution is not supported.
import { execFile } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { mapLimit, root } from './workspace.mjs'

const run = promisify(execFile)

/** Checks each tarball; returns failure messages and prints one line per clean package. */
export async function checkPackedTypes(packages, tarballs) {
  const failures = []
  await mapLimit(packages, availableParallelism(), async (pkg) => {
    try {
      await run(
        join(root, 'node_modules/.bin/attw'),
        [tarballs.get(pkg.name), '--no-color', '--format', 'ascii'],
        {
          cwd: root,
        },
      )
      console.log(`${pkg.name}: attw clean`)
    } catch (error) {
      failures.push(
        `${pkg.name}: attw on the packed tarball:\n${error.stdout || error.stderr || error.message}`,
      )
    }
  })
  return failures
}
