/**
 * Two pods of one service sharing a Redis: a write on one is seen by the other right away, although
 * both read from their own in-process L1. Run with a Redis at REDIS_URL:
 *
 *   REDIS_URL=redis://127.0.0.1:6379 node --import tsx examples/multi-pod.ts
 *
 * (from the built package, import from '@strata-cache/tiered' and run with plain node).
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createCache, type TieredStore } from '../src/index.ts'

const redisUrl = process.env.REDIS_URL
if (!redisUrl) throw new Error('set REDIS_URL, e.g. redis://127.0.0.1:6379')
const role = process.argv[2] ?? 'main'

const cache = createCache({ redisUrl, prefix: 'example:', defaultTtl: '1h', lock: true })
await (cache.store as TieredStore).ready()
const loadPrice = async () => ({ sku: 'rack-42', price: 100, loadedBy: role })

if (role === 'main') {
  const reader = fork(fileURLToPath(import.meta.url), ['reader'], { execArgv: process.execArgv })
  await new Promise((resolve) => reader.once('message', resolve)) // reader is up
  console.log('writer: getOrSet ->', await cache.getOrSet('price:rack-42', loadPrice))
  reader.send('read')
  await new Promise((resolve) => reader.once('message', resolve))
  await cache.set('price:rack-42', { sku: 'rack-42', price: 90, loadedBy: 'writer (update)' })
  console.log('writer: updated the price to 90')
  reader.send('read')
  await new Promise((resolve) => reader.once('message', resolve))
  reader.send('exit')
  await cache.close()
} else {
  cache.on('invalidate', (e) =>
    console.log(`reader: told by the bus to drop ${e.keys?.join(', ') ?? e.kind}`),
  )
  process.on('message', async (message) => {
    if (message === 'exit') {
      await cache.close()
      process.exit(0)
    }
    console.log('reader: get ->', await cache.get('price:rack-42'))
    process.send?.('done')
  })
  process.send?.('ready')
}
