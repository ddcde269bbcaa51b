import { execFileSync } from 'node:child_process'

/** Builds dist/main.js once: the HTTP tests run the artifact that ships, as separate processes. */
export default function setup(): void {
  execFileSync('pnpm', ['exec', 'tsup', '--silent'], {
    cwd: new URL('..', import.meta.url).pathname,
    stdio: 'inherit',
  })
}
