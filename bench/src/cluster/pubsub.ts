/**
 * Classic pub/sub (PUBLISH/SUBSCRIBE, broadcast over the cluster bus to every node) next to sharded
 * pub/sub (SPUBLISH/SSUBSCRIBE, the channel lives on the shard owning its slot) on a 3-master test
 * cluster: what RedisBus should use on a Cluster. Run:
 *
 *   node --conditions=@strata-cache/source --import tsx bench/src/cluster/pubsub.ts [--subscribers 3] [--messages 20000]
 *
 * Per mode: `subscribers` subscriber connections (classic: spread over the masters, as pods connecting
 * to any node would be; sharded: on the channel's shard), one publisher connection. Two phases: a
 * burst of `messages` published with 64 in flight (throughput until every subscriber has every
 * message), then 2,000 messages at one per 0.5 ms (latency publish → receive, p50/p99). Also the CPU
 * the masters used (INFO CPU) and the cluster-bus messages sent (CLUSTER INFO) during the burst.
 */
import { startRedisCluster } from '@strata-cache/test-suite/redis-server'
import { Cluster, Redis } from 'ioredis'

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}
const SUBSCRIBERS = arg('subscribers', 3)
const MESSAGES = arg('messages', 20_000)
const PACED = 2000
const channel = 'bench:bus'
const payload = `1|pod-a|0|k|${'thermal:rack:123:a1b2c3d4,'.repeat(2)}`

const cluster = await startRedisCluster()
const router = new Cluster(cluster.nodes as never)
await router.ping()
const slot = Number(await router.cluster('KEYSLOT', channel))
const slots = await router.cluster('SLOTS')
const ownerPort = slots.find(([from, to]) => slot >= from && slot <= to)![2]![1]
const ports = cluster.nodes.map((n) => n.port)

async function cpu(port: number): Promise<number> {
  const r = new Redis(port, '127.0.0.1')
  const info = await r.info('cpu')
  r.disconnect()
  const get = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0)
  return get('used_cpu_sys') + get('used_cpu_user')
}
async function busSent(port: number): Promise<number> {
  const r = new Redis(port, '127.0.0.1')
  const info = String(await r.cluster('INFO'))
  r.disconnect()
  return Number(/cluster_stats_messages_sent:(\d+)/.exec(info)?.[1] ?? 0)
}
const sum = async (f: (port: number) => Promise<number>) =>
  (await Promise.all(ports.map(f))).reduce((a, b) => a + b, 0)

interface Result {
  mode: string
  burstMsgPerS: number
  p50: number
  p99: number
  cpuMs: number
  busMessages: number
}

async function run(mode: 'classic' | 'sharded'): Promise<Result> {
  const subs: Redis[] = []
  let received = 0
  let waiting: (() => void) | undefined
  let target = 0
  const sentAt = new Map<number, number>()
  const latencies: number[] = []
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const port = mode === 'sharded' ? ownerPort : ports[i % ports.length]!
    const sub = new Redis(port, '127.0.0.1')
    sub.on(mode === 'sharded' ? 'smessage' : 'message', (_c: string, message: string) => {
      received++
      const seq = Number(message.slice(message.lastIndexOf('#') + 1))
      const at = sentAt.get(seq)
      if (at !== undefined && i === 0) latencies.push(performance.now() - at)
      if (received >= target) waiting?.()
    })
    if (mode === 'sharded') await sub.ssubscribe(channel)
    else await sub.subscribe(channel)
    subs.push(sub)
  }
  // Classic: any node takes a PUBLISH; pick one that is not the subscribers' only node.
  const pub = new Redis(mode === 'sharded' ? ownerPort : ports[0]!, '127.0.0.1')
  const send = (seq: number) =>
    mode === 'sharded'
      ? pub.spublish(channel, `${payload}#${seq}`)
      : pub.publish(channel, `${payload}#${seq}`)
  await new Promise((r) => setTimeout(r, 200))

  // Burst
  const cpuBefore = await sum(cpu)
  const busBefore = await sum(busSent)
  received = 0
  target = MESSAGES * SUBSCRIBERS
  const done = new Promise<void>((r) => (waiting = r))
  const started = performance.now()
  let next = 0
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < MESSAGES) await send(-1 - next++)
    }),
  )
  await done
  const burstMs = performance.now() - started
  const cpuMs = ((await sum(cpu)) - cpuBefore) * 1000
  const busMessages = (await sum(busSent)) - busBefore

  // Paced latency
  received = 0
  target = PACED * SUBSCRIBERS
  const pacedDone = new Promise<void>((r) => (waiting = r))
  for (let seq = 0; seq < PACED; seq++) {
    sentAt.set(seq, performance.now())
    void send(seq)
    if (seq % 2 === 1) await new Promise((r) => setTimeout(r, 1))
  }
  await pacedDone
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!
  for (const s of subs) s.disconnect()
  pub.disconnect()
  return {
    mode,
    burstMsgPerS: Math.round((MESSAGES / burstMs) * 1000),
    p50: at(0.5),
    p99: at(0.99),
    cpuMs: Math.round(cpuMs),
    busMessages,
  }
}

try {
  const results: Result[] = []
  for (const mode of ['classic', 'sharded', 'classic', 'sharded', 'classic', 'sharded'] as const)
    results.push(await run(mode))
  console.log(
    `3 masters, ${SUBSCRIBERS} subscribers, ${MESSAGES} burst messages (${payload.length + 6} bytes), ${PACED} paced`,
  )
  console.log('| mode | burst msg/s | p50 ms | p99 ms | masters CPU ms (burst) | cluster-bus msgs (burst) |')
  console.log('|---|---|---|---|---|---|')
  for (const r of results)
    console.log(
      `| ${r.mode} | ${r.burstMsgPerS} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.cpuMs} | ${r.busMessages} |`,
    )
} finally {
  router.disconnect()
  await cluster.stop()
}
