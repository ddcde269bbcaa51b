// Checks the built package (run `pnpm build` first): an entry requests only the optional peer
// dependency it is for, and the root requests none until an exporter is called. Each case runs in
// a fresh node process, through `import` and through `require`. "Without <peer>" cases make the
// peer unresolvable from this package, as for an app that did not install it. (prom-client itself
// depends on @opentelemetry/api, so that one is installed, and loaded by prom-client, wherever
// prom-client is: what matters is what this package asks for.)
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const here = new URL('..', import.meta.url).pathname
const dist = join(here, 'dist')
const PEERS = ['prom-client', '@opentelemetry/api']
const work = mkdtempSync(join(tmpdir(), 'strata-metrics-peers-'))
const log = join(work, 'requests.log')

// Both module systems: log each peer this package's dist asks for, and refuse those in HIDE_PEERS.
const gate = `
const peers = ${JSON.stringify(PEERS)}
const fromUs = (parent) => typeof parent === 'string' && parent.includes(${JSON.stringify(dist)})
const hidden = (process.env.HIDE_PEERS ?? '').split(',').filter(Boolean)
const note = (request) => require('node:fs').appendFileSync(${JSON.stringify(log)}, request + '\\n')`
writeFileSync(
  join(work, 'hooks.cjs'),
  `${gate}
exports.resolve = async function resolve(specifier, context, next) {
  const parent = context.parentURL && decodeURIComponent(new URL(context.parentURL).pathname)
  if (peers.includes(specifier) && fromUs(parent)) {
    note(specifier)
    if (hidden.includes(specifier)) {
      const error = new Error("Cannot find package '" + specifier + "' imported from " + parent)
      error.code = 'ERR_MODULE_NOT_FOUND'
      throw error
    }
  }
  return next(specifier, context)
}
`,
)
writeFileSync(
  join(work, 'preload.cjs'),
  `${gate}
const Module = require('node:module')
const resolveFilename = Module._resolveFilename
Module._resolveFilename = function (request, parent, ...rest) {
  if (peers.includes(request) && fromUs(parent?.filename)) {
    note(request)
    if (hidden.includes(request)) {
      const error = new Error("Cannot find module '" + request + "'")
      error.code = 'MODULE_NOT_FOUND'
      throw error
    }
  }
  return resolveFilename.call(this, request, parent, ...rest)
}
Module.register(${JSON.stringify(pathToFileURL(join(work, 'hooks.cjs')).href)})
`,
)

const cases = [
  { entry: '@strata-cache/metrics', expect: [] },
  { entry: '@strata-cache/metrics/prometheus', expect: ['prom-client'] },
  { entry: '@strata-cache/metrics/open-telemetry', expect: ['@opentelemetry/api'] },
  { entry: '@strata-cache/metrics', call: 'prometheusMetrics', expect: ['prom-client'] },
  { entry: '@strata-cache/metrics', call: 'openTelemetryMetrics', expect: ['@opentelemetry/api'] },
  {
    entry: '@strata-cache/metrics/prometheus',
    hide: '@opentelemetry/api',
    call: 'prometheusMetrics',
    expect: ['prom-client'],
  },
  {
    entry: '@strata-cache/metrics/open-telemetry',
    hide: 'prom-client',
    call: 'openTelemetryMetrics',
    expect: ['@opentelemetry/api'],
  },
  {
    entry: '@strata-cache/metrics',
    hide: 'prom-client',
    call: 'openTelemetryMetrics',
    expect: ['@opentelemetry/api'],
  },
  {
    entry: '@strata-cache/metrics',
    hide: '@opentelemetry/api',
    call: 'prometheusMetrics',
    expect: ['prom-client'],
  },
  {
    entry: '@strata-cache/metrics',
    hide: 'prom-client',
    call: 'prometheusMetrics',
    error: 'pnpm add prom-client',
  },
  {
    entry: '@strata-cache/metrics',
    hide: '@opentelemetry/api',
    call: 'openTelemetryMetrics',
    error: 'pnpm add @opentelemetry/api',
  },
]

let failures = 0
for (const format of ['esm', 'cjs']) {
  for (const c of cases) {
    const file = join(here, `.peer-check.${format === 'esm' ? 'mjs' : 'cjs'}`)
    const load =
      format === 'esm' ? `await import(${JSON.stringify(c.entry)})` : `require(${JSON.stringify(c.entry)})`
    // A stand-in for a Cache: the exporters only subscribe and read stats.
    writeFileSync(
      file,
      `${format === 'esm' ? '' : '(async () => {'}
const m = ${load}
const cache = { on: () => () => {}, store: { name: 'memory' }, stats: async () => ({ tiers: [] }) }
let error
try { if (${JSON.stringify(c.call ?? '')}) m[${JSON.stringify(c.call ?? '')}](cache, { cacheName: 'check' })() } catch (e) { error = e }
console.log(JSON.stringify(error ? { code: error.code, message: error.message } : null))
${format === 'esm' ? '' : '})()'}
`,
    )
    writeFileSync(log, '')
    const label = `${format} ${c.entry}${c.hide ? ` without ${c.hide}` : ''}${c.call ? `, then ${c.call}()` : ''}`
    try {
      const out = execFileSync(process.execPath, ['--require', join(work, 'preload.cjs'), file], {
        cwd: here,
        env: { ...process.env, HIDE_PEERS: c.hide ?? '' },
        encoding: 'utf8',
      })
      const error = JSON.parse(out.trim().split('\n').at(-1))
      const requested = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))].sort()
      const problems = []
      if (c.error !== undefined) {
        if (error?.code !== 'E_INVALID_OPTION' || !error.message.includes(c.error))
          problems.push(`expected a CacheOptionError saying "${c.error}", got ${JSON.stringify(error)}`)
      } else {
        if (error) problems.push(`threw ${error.message}`)
        if (JSON.stringify(requested) !== JSON.stringify([...c.expect].sort()))
          problems.push(`requested [${requested}], expected [${c.expect}]`)
      }
      if (problems.length > 0) {
        failures++
        console.error(`FAIL ${label}: ${problems.join('; ')}`)
      } else {
        console.log(`ok   ${label}: ${c.error ? `refused, "${c.error}"` : `requested [${requested}]`}`)
      }
    } catch (error) {
      failures++
      console.error(`FAIL ${label}: ${error.stderr || error.message}`)
    } finally {
      rmSync(file, { force: true })
    }
  }
}
rmSync(work, { recursive: true, force: true })
process.exit(failures === 0 ? 0 : 1)
