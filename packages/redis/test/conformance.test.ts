import { describeStoreConformance } from '@strata-cache/test-suite'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { TEST_COMMAND_TIMEOUT } from './helpers.ts'

let server: RedisServer

beforeAll(async () => {
  server = await startRedisServer()
})

afterAll(async () => {
  await server?.stop()
})

describeStoreConformance({
  name: 'RedisStore (single node)',
  createStore: ({ prefix, now }) =>
    new RedisStore({ url: server.url, prefix, now, commandTimeout: TEST_COMMAND_TIMEOUT }),
  capabilities: { sharedAcrossInstances: true, survivesRestart: true, injectableClock: true },
})
