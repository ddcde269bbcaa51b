import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { createInterface, type Interface } from 'node:readline'
import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uniquePrefix } from './helpers.ts'

interface Pod {
  child: ChildProcessWithoutNullStreams
  send(command: object): Promise<{ result: unknown; pid: number }>
}

function startPod(url: string, prefix: string): Pod {
  const fixture = new URL('./fixtures/pod.ts', import.meta.url).pathname
  const child = spawn(
    process.execPath,
    ['--conditions=@strata-cache/source', '--import', 'tsx', fixture, url, prefix],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  const lines: Interface = createInterface({ input: child.stdout })
  const waiting: ((line: string) => void)[] = []
  lines.on('line', (line) => waiting.shift()?.(line))
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  return {
    child,
    send(command) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`pod ${child.pid} did not answer: ${stderr}`)),
          15_000,
        )
        waiting.push((line) => {
          clearTimeout(timer)
          resolve(JSON.parse(line))
        })
        child.stdin.write(`${JSON.stringify(command)}\n`)
      })
    },
  }
}

describe('RedisStore shared by several processes (pods)', () => {
  let server: RedisServer
  const pods: Pod[] = []

  beforeAll(async () => {
    server = await startRedisServer()
  })

  afterAll(async () => {
    for (const pod of pods) {
      if (pod.child.exitCode === null && pod.child.pid !== undefined) process.kill(pod.child.pid, 'SIGKILL')
    }
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
    expect(new Set([a.child.pid, b.child.pid, seen.pid]).size).toBe(3)
    expect((await c.send({ op: 'deleteTags', tags: ['fleet'] })).result).toBe(100)
    expect((await a.send({ op: 'getMany', keys })).result).toEqual(keys.map(() => null))
    for (const pod of pods) expect((await pod.send({ op: 'close' })).result).toBe('closed')
  })
})
