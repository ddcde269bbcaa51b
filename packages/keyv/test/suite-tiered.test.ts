import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite'
import type { Cache } from '@strata-cache/core'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { createCache, type TieredStore } from '@strata-cache/tiered'
import Keyv from 'keyv'
import * as vitest from 'vitest'
import { KeyvStrata } from '../src/index.ts'
import { expectedFailures } from './helpers/expected-failures.ts'

// Keyv's own conformance suite on createCache({ redisUrl }): L1 + a real Redis + the invalidation bus.
let server: RedisServer
let cache: Cache

vitest.beforeAll(async () => {
  server = await startRedisServer()
  cache = createCache({ redisUrl: server.url, prefix: `keyv-suite-${process.pid}:` })
  await (cache.store as TieredStore).ready()
})
vitest.afterAll(async () => {
  await cache?.close()
  await server?.stop()
})

vitest.describe('@keyv/test-suite on createCache({ redisUrl }) (L1 + Redis + bus)', () => {
  keyvTestSuite(vitest, Keyv, () => new KeyvStrata(cache))
})

vitest.describe('@keyv/test-suite iterator tests, expected to fail: no iterator over a Cache', () => {
  keyvIteratorTests(expectedFailures(vitest), Keyv, () => new KeyvStrata(cache))
})
