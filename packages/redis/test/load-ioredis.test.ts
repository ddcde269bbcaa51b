import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

/** Runs `code` (ESM) in a fresh Node process that reads the package's sources; resolves its stdout. */
function runNode(code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--conditions=@strata-cache/source', '--import', 'tsx', '--input-type=module', '-e', code],
      { cwd: fileURLToPath(new URL('..', import.meta.url)) },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${error.message}\n${stderr}`))
        else resolve(stdout.trim())
      },
    )
  })
}

describe('ioredis, an optional peer, loads only when a RedisStore is constructed', () => {
  it('is not loaded by importing the package or ./internal, and is by new RedisStore', async () => {
    const out = await runNode(`
      import { createRequire } from 'node:module'
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/ioredis/'))
      const { RedisStore } = await import(${JSON.stringify(`${SRC}index.ts`)})
      await import(${JSON.stringify(`${SRC}internal.ts`)})
      const before = loaded()
      const store = new RedisStore({ url: 'redis://127.0.0.1:1', connectTimeout: 10 })
      console.log(JSON.stringify({ before, after: loaded() }))
      await store.close()
    `)
    expect(JSON.parse(out)).toEqual({ before: false, after: true })
  })
})
