// Each package's entry points share one copy of every module (tsup `splitting`): a class bundled
// into two entries is two classes, and a private-field brand or `instanceof` check made with one
// fails on the other's instances. (RedisStore's reads build DecodedEntry in `index`; tiered asks
// `internal` whether an entry is one: with two copies, every L1 fill serialized its value again.)
import { readFileSync } from 'node:fs'

const CLASS = /^(?:var (\w+) = class\b|class (\w+)\b)/gm

/** Problems: a top-level class declared in more than one built entry file of a package (ESM, then CJS). */
export function checkSharedModules(packages) {
  const problems = []
  for (const pkg of packages) {
    if (pkg.entries.length < 2) continue
    for (const format of ['esm', 'cjs']) {
      const seen = new Map()
      for (const entry of pkg.entries) {
        for (const match of readFileSync(entry[format], 'utf8').matchAll(CLASS)) {
          const name = match[1] ?? match[2]
          const other = seen.get(name)
          if (other !== undefined && other !== entry.specifier)
            problems.push(
              `${pkg.name}: class ${name} is bundled into both ${other} and ${entry.specifier} (${format}); build with splitting so they share it`,
            )
          seen.set(name, entry.specifier)
        }
      }
    }
  }
  return problems
}
