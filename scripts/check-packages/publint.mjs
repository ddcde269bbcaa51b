// publint (strict: warnings fail) on each publishable package's packed tarball.
import { readFileSync } from 'node:fs'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'

/** Lints each tarball; returns failure messages and prints one line per clean package. */
export async function checkPublint(packages, tarballs) {
  const failures = []
  for (const pkg of packages) {
    const tarball = readFileSync(tarballs.get(pkg.name))
    const pack = {
      tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength),
    }
    const { messages } = await publint({ pack, strict: true, level: 'warning' })
    for (const message of messages) {
      failures.push(`${pkg.name}: publint ${message.type}: ${formatMessage(message, pkg.manifest)}`)
    }
    if (messages.length === 0) console.log(`${pkg.name}: publint clean`)
  }
  return failures
}
