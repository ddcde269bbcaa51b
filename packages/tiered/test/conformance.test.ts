import { MemoryStore } from '@strata-cache/memory'
import { RedisStore } from '@strata-cache/redis'
import { describeStoreConformance } from '@strata-cache/test-suite'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll } from 'vitest'
import { RedisBus } from '../src/redis-bus.ts'
import { TieredStore } from '../src/tiered-store.ts'

let server: RedisServer
beforeAll(async () => {
  server = await startRedisServer()
})
afterAll(async () => {
  await server?.stop()
})

describeStoreConformance({
  name: 'TieredStore',
  createStore: async ({ prefix, now }) => {
    const store = new TieredStore({
      l1: new MemoryStore({ now }),
      l2: new RedisStore({ url: server.url, prefix, now }),
      bus: new RedisBus({ url: server.url, prefix }),
      now,
    })
    await store.ready()
    return store
  },
  capabilities: { sharedAcrossInstances: true, survivesRestart: true, injectableClock: true },
})
