// Child process of entry-points.mjs: loads one entry point's ESM and CJS builds with some packages
// unresolvable (resolve-guard.mjs, guard-rules.mjs) and prints a JSON report on stdout.
// Argument: JSON { specifier, esm, cjs, denied: string[], scenario?: 'create-cache' }.
import Module, { createRequire, register } from 'node:module'
import { pathToFileURL } from 'node:url'
import { packageNameOf, REFUSAL_MARK, refusal } from './guard-rules.mjs'

const { esm, cjs, denied, scenario } = JSON.parse(process.argv[2])
register('./resolve-guard.mjs', import.meta.url, { data: { denied } })

const resolveFilename = Module._resolveFilename
Module._resolveFilename = function guardedResolveFilename(request, parent, ...rest) {
  const reason = refusal(request, parent?.filename, denied)
  if (reason !== null) {
    const error = new Error(`Cannot find module '${packageNameOf(request)}' ${REFUSAL_MARK} ${reason}]`)
    error.code = 'MODULE_NOT_FOUND'
    throw error
  }
  return resolveFilename.call(this, request, parent, ...rest)
}

const report = {}
const modules = {}
try {
  modules.esm = await import(pathToFileURL(esm).href)
  report.esm = Object.keys(modules.esm).sort()
} catch (error) {
  report.esmError = String(error?.message ?? error)
}
try {
  modules.cjs = createRequire(import.meta.url)(cjs)
  report.cjs = Object.keys(modules.cjs).sort()
} catch (error) {
  report.cjsError = String(error?.message ?? error)
}
if (scenario === 'create-cache') {
  report.scenario = []
  for (const format of ['esm', 'cjs']) {
    if (modules[format] === undefined) continue
    for (const problem of await createCacheWithoutIoredis(modules[format].createCache)) {
      report.scenario.push(`${format}: ${problem}`)
    }
  }
}
process.stdout.write(JSON.stringify(report))
process.exit(0)

/** @strata-cache/tiered with ioredis unresolvable: memory-only works, Redis fails naming ioredis. */
async function createCacheWithoutIoredis(createCache) {
  const problems = []
  if (typeof createCache !== 'function') return ['createCache is not exported']
  try {
    const cache = await createCache()
    await cache.set('check-packages:key', 1)
    if ((await cache.get('check-packages:key')) !== 1)
      problems.push('createCache() did not return what was set')
    await cache.close()
  } catch (error) {
    problems.push(`createCache() without redisUrl failed: ${error?.message ?? error}`)
  }
  // Port 1 on loopback: nothing listens, so no traffic leaves; the error may come at once or on first use.
  let failure
  try {
    const cache = await createCache({ redisUrl: 'redis://127.0.0.1:1' })
    try {
      await Promise.race([
        cache.get('check-packages:key'),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error('get() neither failed nor answered in 3 s')), 3000),
        ),
      ])
      problems.push('createCache({ redisUrl }) gave a working cache without ioredis')
    } catch (error) {
      failure = error
    }
    await Promise.race([cache.close().catch(() => {}), new Promise((done) => setTimeout(done, 1000))])
  } catch (error) {
    failure = error
  }
  if (failure !== undefined) {
    const message = String(failure?.message ?? failure)
    if (!message.includes('ioredis')) {
      problems.push(`createCache({ redisUrl }) failed without naming ioredis: ${message}`)
    } else if (/^Cannot find (package|module)/.test(message)) {
      problems.push(`createCache({ redisUrl }) let the bare resolution error through: ${message}`)
    }
  }
  return problems
}
