import { type Cache, MsgpackSerializer, structuredSerializer } from '@strata-cache/core'
import type { MemoryStore } from '@strata-cache/memory'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../src/create-cache.ts'
import type { TieredStore } from '../src/tiered-store.ts'
import { until } from './helpers/wait.ts'

let server: RedisServer
let counter = 0
const caches: Cache[] = []

beforeAll(async () => {
  server = await startRedisServer({ ownServer: true })
})
afterAll(async () => {
  await server?.stop()
})
afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()))
})

const value = () => ({
  racks: new Map([['r1', { at: new Date(0), watts: 10n ** 20n }]]),
  seen: new Set(['a', 'b']),
  missing: undefined,
})

describe('L1 works with the L2 serializer', () => {
  for (const serializer of [structuredSerializer, new MsgpackSerializer()]) {
    it(`${serializer.name}: values JSON refuses are cached in both tiers, no error event`, async () => {
      const prefix = `ser${++counter}:`
      const make = (instanceId: string) => {
        const cache = createCache({
          redisUrl: server.url,
          prefix,
          bus: { instanceId },
          redis: { serializer, compression: { threshold: 16 } },
          l1: { admission: 'always' }, // b's first read fills its L1
        })
        caches.push(cache)
        return cache
      }
      const a = make('a')
      const b = make('b')
      const errors: unknown[] = []
      for (const cache of [a, b]) cache.on('error', (e) => errors.push(e.error))
      await until(async () => (await a.health()).status === 'up' && (await b.health()).status === 'up')
      const l1 = (a.store as TieredStore).l1 as MemoryStore
      expect(l1.serializer?.name).toBe(serializer.name)

      await a.set('rack:1', value())
      expect(await a.get('rack:1')).toEqual(value()) // from a's L1
      const read = await b.get<ReturnType<typeof value>>('rack:1') // from L2, filling b's L1
      expect(read).toEqual(value())
      expect(read?.racks).toBeInstanceOf(Map)
      const filled = (b.store as TieredStore).l1.peek!<ReturnType<typeof value>>('rack:1')
      expect(filled?.value).toEqual(value())
      expect(() => filled?.value.racks.set('r2', { at: new Date(), watts: 1n })).toThrow(/frozen/)
      expect(await b.getOrSet('rack:2', () => value())).toEqual(value())
      expect(await a.get('rack:2')).toEqual(value())
      expect(errors).toEqual([])
    })
  }
})
