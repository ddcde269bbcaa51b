// Are the types wrong? @arethetypeswrong's checks on each publishable package's packed tarball (what
// npm users get), with the profile /.attw.json names: node16 = ESM and CJS under node16 and bundler
// resolution; node10 is not supported. The checks run in this process through
// @arethetypeswrong/core, TypeScript loaded once (the CLI loads it per package: 3x the CPU time);
// `pnpm exec attw --pack packages/<dir>` from the root shows the CLI's full table for one package.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core'
import { problemKindInfo } from '@arethetypeswrong/core/problems'
import { root } from './workspace.mjs'

/** The resolutions each CLI profile ignores (@arethetypeswrong/cli's profiles.js). */
const IGNORED_RESOLUTIONS = { strict: [], node16: ['node10'], 'esm-only': ['node10', 'node16-cjs'] }

/** Checks each tarball; returns failure messages and prints one line per clean package. */
export async function checkPackedTypes(packages, tarballs) {
  const { profile = 'strict' } = JSON.parse(readFileSync(join(root, '.attw.json'), 'utf8'))
  const ignored = IGNORED_RESOLUTIONS[profile]
  if (ignored === undefined) return [`.attw.json: unknown profile "${profile}"`]
  const failures = []
  for (const pkg of packages) {
    const data = new Uint8Array(readFileSync(tarballs.get(pkg.name)))
    const analysis = await checkPackage(createPackageFromTarballData(data))
    if (!analysis.types) {
      failures.push(`${pkg.name}: attw found no type declarations in the packed tarball`)
      continue
    }
    const problems = analysis.problems.filter(
      (problem) => !('resolutionKind' in problem) || !ignored.includes(problem.resolutionKind),
    )
    for (const problem of problems) {
      const info = problemKindInfo[problem.kind]
      const where = [problem.entrypoint, problem.resolutionKind, problem.typesFileName ?? problem.fileName]
        .filter(Boolean)
        .join(', ')
      failures.push(
        `${pkg.name}: attw ${info.emoji} ${info.title}${where ? ` (${where})` : ''}: ${info.docsUrl}`,
      )
    }
    if (problems.length === 0) {
      const entrypoints = Object.keys(analysis.entrypoints).length
      console.log(`${pkg.name}: attw clean (${entrypoints} entry points, profile ${profile})`)
    }
  }
  return failures
}
