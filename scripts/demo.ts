/**
 * `pnpm demo`: the thermal service on the embedded default (memory-only cache, no Redis), seeded
 * with sample racks, in the foreground until Ctrl-C.
 */
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { buildThermal, freePort, ROOT, startThermal } from './demo-support.ts'

async function main(): Promise<void> {
  process.stdout.write('Building apps/thermal...\n')
  buildThermal()
  const dataDir = join(ROOT, '.tmp', 'demo')
  mkdirSync(dataDir, { recursive: true })
  // The app refuses a token under 32 characters: a fresh one per run unless one is given.
  const token = process.env.CACHE_ADMIN_TOKEN ?? randomBytes(16).toString('hex')
  const port = await freePort(Number(process.env.PORT ?? 3001))
  const pod = await startThermal(
    'thermal',
    {
      PORT: String(port),
      DATABASE_PATH: process.env.DATABASE_PATH ?? join(dataDir, 'thermal.db'),
      SEED_SAMPLE_RACKS: 'true',
      WARM_INTERVAL: process.env.WARM_INTERVAL ?? '30s',
      CACHE_ADMIN_TOKEN: token,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    },
    true,
  )
  const racks = (await (await fetch(`${pod.url}/api/racks`)).json()) as {
    racks: { id: number; name: string }[]
  }
  const first = racks.racks[0]?.id ?? 1
  const u = pod.url
  process.stdout.write(
    [
      '',
      `Strata thermal demo on ${u} (memory-only cache; set REDIS_URL for L1 + Redis + bus)`,
      `Sample racks: ${racks.racks.map((r) => `${r.id} ${r.name}`).join(', ')}`,
      '',
      `Live view (hit rate, tiers, events, admin; token: ${token}):`,
      `  ${u}/dashboard`,
      `  curl -N ${u}/events                 # the same events, as Server-Sent Events`,
      '',
      'Try (run each twice: x-cache goes from miss to hit, and the second answer is instant):',
      `  curl -i ${u}/api/racks/${first}/thermal-analysis`,
      `  curl -i ${u}/api/racks/${first}/optimization`,
      `  curl -i '${u}/api/specs/search?q=dell%20poweredge'`,
      `  curl ${u}/api/racks/${first}`,
      '',
      'Change the rack (invalidates its cached analysis), then ask again:',
      `  curl -X POST ${u}/api/racks/${first}/positions -H 'content-type: application/json' \\`,
      `       -d '{"name":"new-switch","startU":40,"heightU":1,"powerWatts":300}'`,
      '',
      'Cache figures and admin:',
      `  curl ${u}/health/cache/stats`,
      `  curl ${u}/health/detailed`,
      `  curl ${u}/metrics`,
      `  curl -X DELETE -H 'authorization: Bearer ${token}' '${u}/health/cache/invalidate/thermal:rack:*'`,
      `  curl -X POST -H 'authorization: Bearer ${token}' ${u}/health/cache/clear`,
      `  curl -X POST -H 'authorization: Bearer ${token}' -H 'content-type: application/json' \\`,
      `       -d '{"command":"pause-warming"}' ${u}/admin/control`,
      '',
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  )
  const stop = () => {
    void pod.stop().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  pod.child.once('exit', (code) => process.exit(code ?? 0))
}

main().catch((error: unknown) => {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
