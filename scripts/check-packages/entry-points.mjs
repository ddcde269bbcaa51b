// Every entry point of every publishable package, built: `import` and `require` expose the same
// names (a dual-package mismatch breaks CJS users silently), and optional peers stay optional.
// Each entry loads in a child process (load-entry.mjs) where a package may resolve only what its
// package.json declares in dependencies/peerDependencies, and where the optional peers that entry
// does not need are not installed at all.
import { execFile } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { mapLimit } from './workspace.mjs'

const run = promisify(execFile)

/** The optional peers an entry point is for; it may load those, and no other optional peer. */
const NEEDS = {
  '@strata-cache/metrics/prometheus': ['prom-client'],
  '@strata-cache/metrics/open-telemetry': ['@opentelemetry/api'],
}

/** Entries that get a behaviour check besides loading (see load-entry.mjs). */
const SCENARIOS = {
  '@strata-cache/tiered': 'create-cache',
}

/** Checks each entry; returns failure messages and prints one line per entry that passed. */
export async function checkEntryPoints(packages) {
  const jobs = packages.flatMap((pkg) => {
    const meta = pkg.manifest.peerDependenciesMeta ?? {}
    const optional = Object.keys(pkg.manifest.peerDependencies ?? {}).filter((name) => meta[name]?.optional)
    return pkg.entries.map((entry) => ({
      ...entry,
      denied: optional.filter((name) => !(NEEDS[entry.specifier] ?? []).includes(name)),
      scenario: SCENARIOS[entry.specifier],
    }))
  })
  const failures = []
  await mapLimit(jobs, availableParallelism(), async (job) => {
    const problems = []
    let report
    try {
      const { stdout } = await run(
        process.execPath,
        [join(import.meta.dirname, 'load-entry.mjs'), JSON.stringify(job)],
        {
          timeout: 30_000,
          maxBuffer: 16 * 1024 * 1024,
        },
      )
      report = JSON.parse(stdout)
    } catch (error) {
      failures.push(`${job.specifier}: the loader child failed: ${error.stderr || error.message}`)
      return
    }
    const without = job.denied.length > 0 ? ` with ${job.denied.join(', ')} not installed` : ''
    if (report.esmError) problems.push(`import${without} failed: ${report.esmError}`)
    if (report.cjsError) problems.push(`require${without} failed: ${report.cjsError}`)
    if (report.esm && report.cjs) {
      const onlyEsm = report.esm.filter((name) => !report.cjs.includes(name))
      const onlyCjs = report.cjs.filter((name) => !report.esm.includes(name))
      if (onlyEsm.length > 0 || onlyCjs.length > 0) {
        problems.push(`import and require differ: only ESM [${onlyEsm}], only CJS [${onlyCjs}]`)
      }
    }
    problems.push(...(report.scenario ?? []))
    if (problems.length > 0) {
      for (const problem of problems) failures.push(`${job.specifier}: ${problem}`)
    } else {
      const extra = job.scenario ? `; ${job.scenario} scenario passed` : ''
      console.log(
        `${job.specifier}: ${report.esm.length} export(s), the same in ESM and CJS; loads${without}${extra}`,
      )
    }
  })
  return failures
}
