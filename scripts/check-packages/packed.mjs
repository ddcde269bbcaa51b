// The publishable packages packed as npm would get them (`pnpm pack`: workspace: ranges replaced),
// for publint and @arethetypeswrong/cli to read.
import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { root } from './workspace.mjs'

const run = promisify(execFile)

/** Packs every package in one pnpm run; returns the temp directory and each package's tarball path. */
export async function packAll(packages) {
  const destination = mkdtempSync(join(tmpdir(), 'strata-pack-'))
  const filters = packages.flatMap((pkg) => ['--filter', pkg.name])
  await run('pnpm', ['--recursive', ...filters, 'pack', '--pack-destination', destination], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  })
  const files = readdirSync(destination)
  const tarballs = new Map()
  for (const pkg of packages) {
    const file = `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.manifest.version}.tgz`
    if (!files.includes(file)) throw new Error(`pnpm pack left no ${file} in ${destination}`)
    tarballs.set(pkg.name, join(destination, file))
  }
  return { destination, tarballs }
}
