import { fileURLToPath } from 'node:url'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { type ChildPod, startChildPod } from '@strata-cache/test-suite/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uniquePrefix } from './helpers.ts'

const FIXTURE = fileURLToPath(new URL('./fixtures/pod.ts', import.meta.url))

interface Pod {
  readonly pid: number
  send(command: object): Promise<{ result: unknown; pid: number }>
  kill(): void
}

/** A pod process with its own RedisStore, driven by JSON lines on stdin/stdout (fixtures/pod.ts). */
function startPod(url: string, prefix: string): Pod {
  const child: ChildPod = startChildPod({
    name: 'pod',
    script: FIXTURE,
    args: [url, prefix],
    channel: 'stdio',
    replyTimeoutMs: 15_000,
  })
  return {
    pid: child.pid,
    send: (command) => child.request(command),
    kill: () => child.signal('SIGKILL'),
  }
}

describe('RedisStore shared by several processes (pods)', () => {
  let server: RedisServer
  const pods: Pod[] = []

  beforeAll(async () => {
    server = await startRedisServer()
  })

  afterAll(async () => {
    for (const pod of pods) pod.kill()
    await server?.stop()
  })

  it('what one pod writes the others read, and a tag delete on one is seen by all', async () => {
    const prefix = uniquePrefix('pods')
    pods.push(startPod(server.url, prefix), startPod(server.url, prefix), startPod(server.url, prefix))
    const [a, b, c] = pods as [Pod, Pod, Pod]
    const keys = Array.from({ length: 100 }, (_, i) => `device:${i}`)
    expect(
      (await a.send({ op: 'setMany', keys: keys.slice(0, 50), value: 'a', tags: ['fleet'] })).result,
    ).toBe('ok')
    expect((await b.send({ op: 'setMany', keys: keys.slice(50), value: 'b', tags: ['fleet'] })).result).toBe(
      'ok',
    )
    const seen = await c.send({ op: 'getMany', keys })
    expect(seen.result).toEqual(keys.map((k, i) => `${i < 50 ? 'a' : 'b'}:${k}`))
    expect(new Set([a.pid, b.pid, seen.pid]).size).toBe(3)
    expect((await c.send({ op: 'deleteTags', tags: ['fleet'] })).result).toBe(100)
    expect((await a.send({ op: 'getMany', keys })).result).toEqual(keys.map(() => null))
    for (const pod of pods) expect((await pod.send({ op: 'close' })).result).toBe('closed')
  })
})
