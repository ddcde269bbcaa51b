import { readdir } from 'node:fs/promises'
import { type BenchRow, type BenchSuite, formatRows } from './harness.ts'

// `pnpm bench [name...]`: runs every suite in ./suites (or those named) in one process, in file order.
const only = process.argv.slice(2)
const dir = new URL('./suites/', import.meta.url)
const files = (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort()
const rows: BenchRow[] = []
for (const file of files) {
  const suite = ((await import(new URL(file, dir).href)) as { default?: BenchSuite; suite?: BenchSuite })
    .suite
  if (!suite) continue
  if (only.length > 0 && !only.includes(suite.name)) continue
  process.stderr.write(`running ${suite.name}…\n`)
  rows.push(...(await suite.run()))
}
console.log(`node ${process.version}, ${new Date().toISOString()}`)
console.log(formatRows(rows))
