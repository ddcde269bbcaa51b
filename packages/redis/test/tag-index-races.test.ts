import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisStore } from '../src/index.ts'
import { entry, TEST_COMMAND_TIMEOUT, uniquePrefix } from './helpers.ts'

let server: RedisServer
let raw: Redis

beforeAll(async () => {
  server = await startRedisServer()
  raw = new Redis(server.url)
})

afterAll(async () => {
  raw?.disconnect()
  await server?.stop()
})

/** Every entry under `prefix` whose header names `tag` is a member of the tag's set. */
async function orphans(prefix: string, tag: string): Promise<string[]> {
  const lost: string[] = []
  let cursor = '0'
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', `${prefix}k:*`, 'COUNT', 1000)
    cursor = next
    for (const key of keys) {
      const text = await raw.get(key)
      const header = text?.slice(0, text.indexOf('\n')).split('\t')
      if (header?.[4]?.split(',').includes(tag) !== true) continue
      if ((await raw.sismember(`${prefix}#tag:${tag}`, key.slice(prefix.length))) === 0) lost.push(key)
    }
  } while (cursor !== '0')
  return lost
}

describe('deleteTags racing writes of the same keys', () => {
  it('never leaves an entry carrying the tag outside its set (so a later invalidateTags finds it)', async () => {
    const prefix = uniquePrefix('race')
    const writer = new RedisStore({ url: server.url, prefix, commandTimeout: TEST_COMMAND_TIMEOUT })
    const invalidator = new RedisStore({ url: server.url, prefix, commandTimeout: TEST_COMMAND_TIMEOUT })
    try {
      const keys = Array.from({ length: 200 }, (_, i) => `k:${i}`)
      await writer.setMany(keys.map((k) => [k, entry(k, { tags: ['hot'] })]))
      // Writes keep landing on the tagged keys while the tag is invalidated, again and again.
      let writing = true
      const writes = (async () => {
        let n = 0
        while (writing) await writer.set(keys[n++ % keys.length]!, entry(n, { tags: ['hot'] }))
      })()
      for (let round = 0; round < 30; round++) await invalidator.deleteTags(['hot'])
      writing = false
      await writes
      expect(await orphans(prefix, 'hot')).toEqual([])
      // And so one more invalidation removes every entry that carries the tag.
      await invalidator.deleteTags(['hot'])
      expect(await orphans(prefix, 'hot')).toEqual([])
      for (const key of keys) expect((await writer.get(key))?.tags ?? []).not.toContain('hot')
    } finally {
      await Promise.all([writer.close(), invalidator.close()])
    }
  })
})
