import { type RedisServer, startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Pod, startPod } from './helpers/pods.ts'
import { until } from './helpers/wait.ts'

// Three pods, each a process with its own createCache (L1 + L2 + bus + application channels), one Redis.
let server: RedisServer
let admin: Redis
let pods: Pod[] = []
const prefix = 'mpc:'

type Inbox = { message: unknown; from: string }[]
type ChannelEvent = { state: string; channels?: string[]; reason?: string }

beforeAll(async () => {
  server = await startRedisServer({ ownServer: true })
  admin = new Redis(server.url)
  pods = await Promise.all(
    ['pod-1', 'pod-2', 'pod-3'].map((name) => startPod(name, { redisUrl: server.url, prefix })),
  )
}, 60_000)

afterAll(async () => {
  await Promise.all(pods.map((pod) => pod.stop()))
  admin?.disconnect()
  await server?.stop()
})

const inbox = (pod: Pod, channel: string) => pod.call<Inbox>('channelInbox', { channel })

describe('application channels across three pods', () => {
  it('a message published on one pod reaches every pod, the publisher included', async () => {
    await Promise.all(pods.map((pod) => pod.call('channelSubscribe', { channel: 'rack.updated' })))
    const [p1] = pods as [Pod]
    await p1.call('channelPublish', { channel: 'rack.updated', message: { rackId: 3, by: 'pod-1' } })
    await until(async () =>
      (await Promise.all(pods.map((p) => inbox(p, 'rack.updated')))).every((m) => m.length === 1),
    )
    for (const pod of pods) {
      expect(await inbox(pod, 'rack.updated')).toEqual([
        { message: { rackId: 3, by: 'pod-1' }, from: 'pod-1' },
      ])
    }
  })

  it('a handler that throws does not stop the other handlers, on its pod or elsewhere', async () => {
    const [p1, p2, p3] = pods as [Pod, Pod, Pod]
    await p2.call('channelSubscribe', { channel: 'control', throwing: true })
    await Promise.all([p1, p3].map((pod) => pod.call('channelSubscribe', { channel: 'control' })))
    await p3.call('channelPublish', { channel: 'control', message: { command: 'pause-warming' } })
    await p3.call('channelPublish', { channel: 'control', message: { command: 'resume-warming' } })
    await until(async () =>
      (await Promise.all(pods.map((p) => inbox(p, 'control')))).every((m) => m.length === 2),
    )
    for (const pod of pods) {
      expect((await inbox(pod, 'control')).map((m) => m.message)).toEqual([
        { command: 'pause-warming' },
        { command: 'resume-warming' },
      ])
    }
  })

  it('killing the subscriber connections fires a gap on every pod, and delivery resumes', async () => {
    await admin.client('KILL', 'TYPE', 'pubsub')
    await until(async () => {
      const events = await Promise.all(pods.map((pod) => pod.call<ChannelEvent[]>('channelEvents')))
      return events.every((list) => list.some((e) => e.state === 'gap'))
    }, 10_000)
    for (const pod of pods) {
      const gaps = (await pod.call<ChannelEvent[]>('channelEvents')).filter((e) => e.state === 'gap')
      expect(gaps).toHaveLength(1)
      expect(gaps[0]).toMatchObject({ reason: 'connection closed' })
      expect(gaps[0]!.channels).toContain('rack.updated')
    }
    const [, p2] = pods as [Pod, Pod]
    await p2.call('channelPublish', { channel: 'rack.updated', message: { rackId: 4, by: 'pod-2' } })
    await until(async () =>
      (await Promise.all(pods.map((p) => inbox(p, 'rack.updated')))).every((m) => m.length === 2),
    )
    for (const pod of pods)
      expect((await inbox(pod, 'rack.updated'))[1]).toEqual({
        message: { rackId: 4, by: 'pod-2' },
        from: 'pod-2',
      })
  })
})
