import type { FastifyInstance } from 'fastify'
import type { BaseConfig } from './base-config.ts'
import { ConfigError } from './config-error.ts'
import { describeCluster } from './redis-cluster.ts'
import { redactUrl } from './redis-url.ts'

const SHUTDOWN_DEADLINE_MS = 25_000 // under the usual 30 s terminationGracePeriodSeconds

/**
 * An app's `main`: loads the configuration (a ConfigError exits 1 naming the variable), listens,
 * and on SIGTERM or SIGINT drains requests and closes everything, exiting 0 (1 past 25 s).
 */
export function runApp<C extends BaseConfig>(
  name: string,
  loadConfig: () => C,
  buildServer: (config: C) => FastifyInstance,
): void {
  start(name, loadConfig, buildServer).catch((error: unknown) => {
    process.stderr.write(
      `${name}: failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.exit(1)
  })
}

async function start<C extends BaseConfig>(
  name: string,
  loadConfig: () => C,
  buildServer: (config: C) => FastifyInstance,
): Promise<void> {
  let config: C
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${name}: invalid configuration: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }
  const app = buildServer(config)
  const address = await app.listen({ port: config.port, host: config.host })
  app.log.info(
    {
      address,
      cache:
        config.redisCluster !== undefined
          ? `tiered (cluster ${describeCluster(config.redisCluster)})`
          : config.redisUrl === undefined
            ? 'memory'
            : `tiered (${redactUrl(config.redisUrl)})`,
      database: config.databasePath,
    },
    `${name} service ready`,
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
