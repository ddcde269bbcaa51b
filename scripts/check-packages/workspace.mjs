// The publishable packages of the workspace and the entry points their `exports` declare.
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const root = resolve(import.meta.dirname, '../..')

/**
 * Every package under packages/ that is not private, with its manifest and one entry per subpath
 * export that has `import` and `require` targets (`./package.json` and the like are left out).
 */
export function publishablePackages() {
  const packages = []
  for (const dir of readdirSync(join(root, 'packages')).sort()) {
    const pkgDir = join(root, 'packages', dir)
    let manifest
    try {
      manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
    } catch {
      continue
    }
    if (manifest.private) continue
    const entries = []
    for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
      const esm = target?.import?.default
      const cjs = target?.require?.default
      if (typeof esm !== 'string' || typeof cjs !== 'string') continue
      entries.push({
        specifier: subpath === '.' ? manifest.name : `${manifest.name}${subpath.slice(1)}`,
        esm: join(pkgDir, esm),
        cjs: join(pkgDir, cjs),
      })
    }
    packages.push({ name: manifest.name, dir: pkgDir, manifest, entries })
  }
  return packages
}

/** Runs `task` over `items`, at most `limit` at a time; results in the order of `items`. */
export async function mapLimit(items, limit, task) {
  const results = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await task(items[index], index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
