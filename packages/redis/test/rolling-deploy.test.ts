import { fileURLToPath } from 'node:url'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { type ChildPod, startChildPod } from '@strata-cache/test-suite/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uniquePrefix } from './helpers.ts'

const FIXTURE = fileURLToPath(new URL('./fixtures/format-pod.ts', import.meta.url))

type Pod = { send(command: object): Promise<unknown>; child: ChildPod }

function startPod(url: string, prefix: string, format: string, compression = 'off'): Pod {
  const child = startChildPod({
    name: `pod-${format}`,
    script: FIXTURE,
    args: [url, prefix, format, compression],
    channel: 'stdio',
    replyTimeoutMs: 15_000,
  })
  return { child, send: async (command) => (await child.request<{ result: unknown }>(command)).result }
}

describe('a rolling deploy that changes the serializer: two pods, two formats, one Redis', () => {
  let server: RedisServer
  let raw: Redis
  const pods: Pod[] = []

  beforeAll(async () => {
    server = await startRedisServer()
    raw = new Redis(server.url)
  })
  afterAll(async () => {
    for (const pod of pods) await pod.send({ op: 'close' }).catch(() => pod.child.signal('SIGKILL'))
    raw?.disconnect()
    await server?.stop()
  })

  it("each pod reads the other's entries as misses (counted), never as errors or garbage", async () => {
    const prefix = uniquePrefix('deploy')
    const old = startPod(server.url, prefix, 'json')
    const next = startPod(server.url, prefix, 'structured')
    pods.push(old, next)

    // The old pod caches a value; the new one does not misread it, nor delete it.
    expect(await old.send({ op: 'getOrSet', key: 'rack:1' })).toMatchObject({ by: 'json', racks: 'object' })
    expect(await next.send({ op: 'get', key: 'rack:1' })).toBeNull()
    expect(await next.send({ op: 'stats' })).toEqual({ formatMisses: 1, errors: 0 })
    expect(String(await raw.get(`${prefix}rack:1`))).toMatch(/^S1\t/)

    // The new pod loads its own value (a Map and a Date survive) and writes it in its format.
    expect(await next.send({ op: 'getOrSet', key: 'rack:1' })).toEqual({
      by: 'structured',
      at: 'Date 1970-01-01T00:00:00.000Z',
      racks: 'Map [["rack-structured",20]]',
      note: 'x'.repeat(200),
    })
    expect(String(await raw.get(`${prefix}rack:1`))).toMatch(/^S2\t[^\n]*\tstructured\t\n/)
    // Now the old pod misses (counted) instead of reading text it cannot understand.
    expect(await old.send({ op: 'get', key: 'rack:1' })).toBeNull()
    expect(await old.send({ op: 'stats' })).toEqual({ formatMisses: 1, errors: 0 })
    expect(await next.send({ op: 'get', key: 'rack:1' })).toMatchObject({ by: 'structured' })
  })

  it('a msgpack pod with compression and a structured pod share a Redis the same way', async () => {
    const prefix = uniquePrefix('deploy')
    const a = startPod(server.url, prefix, 'msgpack', 'on')
    const b = startPod(server.url, prefix, 'structured', 'on')
    pods.push(a, b)
    expect(await a.send({ op: 'getOrSet', key: 'rack:2' })).toMatchObject({
      by: 'msgpack',
      racks: 'Map [["rack-msgpack",20]]',
    })
    const stored = await raw.getBuffer(`${prefix}rack:2`)
    expect(stored?.subarray(0, 200).toString('latin1')).toMatch(/^S2\t[^\n]*\tmsgpack\tdeflate\n/)
    expect(await b.send({ op: 'get', key: 'rack:2' })).toBeNull()
    expect(await b.send({ op: 'getOrSet', key: 'rack:2' })).toMatchObject({ by: 'structured' })
    expect(await a.send({ op: 'get', key: 'rack:2' })).toBeNull()
    expect(await a.send({ op: 'stats' })).toEqual({ formatMisses: 1, errors: 0 })
    // b's get, then its getOrSet's own read: two misses, then it loaded.
    expect(await b.send({ op: 'stats' })).toEqual({ formatMisses: 2, errors: 0 })
  })
})
