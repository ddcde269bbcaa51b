// Checks what we ship, after `pnpm build`: publint on every publishable package, and that
// `import` and `require` expose the same names (a dual-package mismatch breaks CJS users silently).
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'

const root = resolve(import.meta.dirname, '..')
const require = createRequire(import.meta.url)
let failures = 0

for (const dir of readdirSync(join(root, 'packages'))) {
  const pkgDir = join(root, 'packages', dir)
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
  if (pkg.private) continue
  const { messages } = await publint({ pkgDir, strict: true, level: 'warning' })
  for (const message of messages) {
    failures++
    console.error(`${pkg.name}: publint ${message.type}: ${formatMessage(message, pkg)}`)
  }
  const esm = Object.keys(await import(pathToFileURL(join(pkgDir, 'dist/index.js')).href)).sort()
  const cjs = Object.keys(require(join(pkgDir, 'dist/index.cjs'))).sort()
  const onlyEsm = esm.filter((n) => !cjs.includes(n))
  const onlyCjs = cjs.filter((n) => !esm.includes(n))
  if (onlyEsm.length > 0 || onlyCjs.length > 0) {
    failures++
    console.error(`${pkg.name}: import and require differ: only ESM [${onlyEsm}], only CJS [${onlyCjs}]`)
  } else {
    console.log(`${pkg.name}: publint clean, ${esm.length} exports identical in ESM and CJS`)
  }
}
process.exit(failures === 0 ? 0 : 1)
