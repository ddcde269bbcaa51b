// Which bare specifiers a checked import may resolve: shared by the ESM resolve hook and the CJS
// require patch of load-entry.mjs.
import { readFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { dirname, join, sep } from 'node:path'

/** The package a bare specifier names (`@scope/name` or `name`); null for relative, URL, builtin or `#` imports. */
export function packageNameOf(specifier) {
  if (/^[./#]/.test(specifier) || /^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(specifier) || isBuiltin(specifier)) {
    return null
  }
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

const manifests = new Map()

/** The manifest of the workspace package that holds `file`; null for files under node_modules. */
function owningManifest(file) {
  if (file.includes(`${sep}node_modules${sep}`)) return null
  let dir = dirname(file)
  while (true) {
    if (!manifests.has(dir)) {
      let manifest = null
      try {
        manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
      } catch {}
      manifests.set(dir, manifest?.name ? manifest : null)
    }
    const manifest = manifests.get(dir)
    if (manifest) return manifest
    const parent = dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}

/**
 * Why `specifier`, imported from `parentFile`, must not resolve (or null if it may). Only imports
 * from workspace packages are judged (a third-party package brings its own dependencies): a package
 * made unresolvable for this check, or one the importer does not declare in dependencies,
 * peerDependencies or optionalDependencies (a devDependency is not installed for users).
 */
export function refusal(specifier, parentFile, denied) {
  const name = packageNameOf(specifier)
  if (name === null || parentFile === undefined) return null
  const manifest = owningManifest(parentFile)
  if (manifest === null || manifest.name === name) return null
  if (denied.includes(name)) return `${name} is not installed for this check`
  const declared = {
    ...manifest.dependencies,
    ...manifest.peerDependencies,
    ...manifest.optionalDependencies,
  }
  if (Object.hasOwn(declared, name)) return null
  return `${manifest.name} imports ${name} but does not list it in dependencies or peerDependencies`
}

/** The text every refusal carries, so the checker can tell it from a package's own error. */
export const REFUSAL_MARK = '[check-packages:'
