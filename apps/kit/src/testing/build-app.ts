import { execFileSync } from 'node:child_process'

/** Builds the app in `appDir` into dist/main.js: its HTTP tests run the artifact that ships. */
export function buildApp(appDir: string): void {
  execFileSync('pnpm', ['exec', 'tsup', '--silent'], { cwd: appDir, stdio: 'inherit' })
}
