import {
  type AnySerializer,
  Cache,
  jsonSerializer,
  MsgpackSerializer,
  structuredSerializer,
} from '@strata-cache/core'
import { type CompressionOptions, RedisStore } from '@strata-cache/redis'
import { startRedisServer } from '@strata-cache/test-suite/redis-server'
import { Redis } from 'ioredis'
import { makePayload } from '../compare/payload.ts'
import type { BenchRow, BenchSuite } from '../harness.ts'

// Issue 16: each value format on the L2 path (Cache over RedisStore alone), for the ~1 KB demo
// payload (bench:compare's) and a ~100 KB one (800 device records): Cache.get and Cache.set of
// distinct keys, many in flight, and the bytes Redis holds per entry (STRLEN). Runs with
// `pnpm bench redis-l2` (same suite name as redis-l2.ts).
const ROUNDS = Number(process.env.FORMATS_ROUNDS ?? 9)
const SLICE_MS = 200
const KEYS = 200

const FORMATS: { name: string; serializer: () => AnySerializer; compression?: CompressionOptions }[] = [
  { name: 'json', serializer: () => jsonSerializer },
  { name: 'json + deflate 1', serializer: () => jsonSerializer, compression: { threshold: 0, level: 1 } },
  { name: 'json + deflate 6', serializer: () => jsonSerializer, compression: { threshold: 0, level: 6 } },
  { name: 'structured', serializer: () => structuredSerializer },
  { name: 'msgpack', serializer: () => new MsgpackSerializer() },
  {
    name: 'msgpack + deflate 1',
    serializer: () => new MsgpackSerializer(),
    compression: { threshold: 0, level: 1 },
  },
]

/** ~100 KB of JSON: device records with varied numbers and names (compresses like real data, not like filler). */
function bigPayload(seed: number) {
  return {
    rack: seed,
    devices: Array.from({ length: 800 }, (_, i) => ({
      id: seed * 1000 + i,
      name: `device-${seed}-${i}`,
      watts: ((i * 7919 + seed * 104729) % 100_000) / 100,
      inlet: 18 + ((i * 31) % 120) / 10,
      tags: [`row-${i % 40}`, `zone-${i % 7}`],
      seenAt: new Date(1_700_000_000_000 + i * 60_000).toISOString(),
    })),
  }
}

const PAYLOADS = [
  { name: '1 KB', make: (i: number) => makePayload(i), inFlight: 100 },
  { name: '100 KB', make: bigPayload, inFlight: 10 },
]

export const suite: BenchSuite = {
  name: 'redis-l2',
  async run() {
    const server = await startRedisServer({ ownServer: true })
    const raw = new Redis(server.url)
    const rows: BenchRow[] = []
    try {
      for (const payload of PAYLOADS) {
        const tasks: {
          name: string
          ops: number
          fn: () => Promise<unknown>
          bytes: () => Promise<number>
        }[] = []
        const closers: (() => Promise<void>)[] = []
        for (const format of FORMATS) {
          const store = new RedisStore({
            url: server.url,
            prefix: `fmt-${format.name.replace(/[^a-z0-9]/g, '')}-${payload.name.replace(' ', '')}:`,
            serializer: format.serializer(),
            compression: format.compression ?? false,
            maxValueBytes: 8 * 1024 * 1024,
            commandTimeout: '2s',
          })
          const cache = new Cache({ store, defaultTtl: '1h' })
          await store.ready()
          closers.push(() => cache.close())
          const keys = Array.from({ length: KEYS }, (_, i) => `payload:${i}`)
          const values = keys.map((_, i) => payload.make(i))
          for (let i = 0; i < KEYS; i++) await cache.set(keys[i]!, values[i])
          let at = 0
          const next = () => {
            at = (at + payload.inFlight) % KEYS
            return at
          }
          const n = payload.inFlight
          tasks.push(
            {
              name: `Cache.get ${payload.name}, ${format.name}`,
              ops: n,
              fn: () => {
                const from = next()
                return Promise.all(Array.from({ length: n }, (_, j) => cache.get(keys[(from + j) % KEYS]!)))
              },
              bytes: async () => raw.strlen(store.keyFor(keys[0]!)),
            },
            {
              name: `Cache.set ${payload.name}, ${format.name}`,
              ops: n,
              fn: () => {
                const from = next()
                return Promise.all(
                  Array.from({ length: n }, (_, j) =>
                    cache.set(keys[(from + j) % KEYS]!, values[(from + j) % KEYS]),
                  ),
                )
              },
              bytes: async () => raw.strlen(store.keyFor(keys[0]!)),
            },
          )
        }
        const slices = new Map<string, number[]>(tasks.map((t) => [t.name, []]))
        for (const task of tasks) {
          const until = performance.now() + SLICE_MS / 2
          while (performance.now() < until) await task.fn()
        }
        for (let round = 0; round < ROUNDS; round++) {
          for (let k = 0; k < tasks.length; k++) {
            const task = tasks[(k + round) % tasks.length]!
            let calls = 0
            const started = performance.now()
            while (performance.now() - started < SLICE_MS) {
              await task.fn()
              calls++
            }
            slices.get(task.name)!.push((calls * task.ops * 1000) / (performance.now() - started))
          }
        }
        for (const task of tasks) {
          const sorted = [...slices.get(task.name)!].sort((a, b) => a - b)
          const opsPerSec = sorted[Math.floor(sorted.length / 2)] ?? 0
          rows.push({
            suite: 'redis-l2',
            name: task.name,
            opsPerSec,
            meanNs: 1e9 / opsPerSec,
            samples: ROUNDS,
            note: `${await task.bytes()} bytes in Redis per entry (header included); median of ${ROUNDS} interleaved ${SLICE_MS} ms slices, ${task.ops} in flight`,
          })
        }
        for (const close of closers) await close()
      }
    } finally {
      raw.disconnect()
      await server.stop()
    }
    return rows
  },
}
