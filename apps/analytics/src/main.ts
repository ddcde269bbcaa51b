import { ConfigError, loadConfig, redactUrl } from './config.ts'
import { buildServer } from './server.ts'

const SHUTDOWN_DEADLINE_MS = 25_000 // under the usual 30 s terminationGracePeriodSeconds

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`analytics: invalid configuration: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
  const app = buildServer(config)
  const address = await app.listen({ port: config.port, host: config.host })
  app.log.info(
    {
      address,
      cache: config.redisUrl === undefined ? 'memory' : `tiered (${redactUrl(config.redisUrl)})`,
      database: config.databasePath,
    },
    'analytics service ready',
  )

  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'shutting down: no new connections, finishing requests in flight')
    // A request stuck past the deadline must not keep the pod from stopping.
    setTimeout(() => {
      app.log.error('shutdown deadline passed, exiting')
      process.exit(1)
    }, SHUTDOWN_DEADLINE_MS).unref()
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

main().catch((error: unknown) => {
  process.stderr.write(
    `analytics: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  )
  process.exit(1)
})
