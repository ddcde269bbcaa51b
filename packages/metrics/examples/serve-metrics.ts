// Run: pnpm --filter @strata-cache/metrics example   (then: curl localhost:9464/metrics)
import { createServer } from 'node:http'
import { Cache, defineKey, hashParams } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import { prometheusMetrics } from '@strata-cache/metrics/prometheus'
import { Registry } from 'prom-client'

const registry = new Registry()
const cache = new Cache({ store: new MemoryStore({ maxEntries: 10_000 }), defaultTtl: '30s', grace: '5m' })
const detach = prometheusMetrics(cache, { registry, cacheName: 'thermal' })

const rackKey = defineKey('thermal:rack:{rackId}:{hash}')
for (let i = 0; i < 100; i++) {
  const rackId = i % 7
  await cache.getOrSet(rackKey({ rackId, hash: hashParams({ window: '1h' }) }), () => ({
    rackId,
    celsius: 21 + rackId,
  }))
}

const server = createServer(async (req, res) => {
  if (req.url !== '/metrics') return void res.writeHead(404).end()
  res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics())
})
server.listen(Number(process.env.PORT ?? 9464), '127.0.0.1', () => {
  const { port } = server.address() as { port: number }
  console.log(`metrics on http://127.0.0.1:${port}/metrics`)
  if (process.env.ONCE === '1') {
    // For a smoke run: print one scrape and stop.
    fetch(`http://127.0.0.1:${port}/metrics`)
      .then((r) => r.text())
      .then((text) => {
        console.log(
          text
            .split('\n')
            .filter((l) => l.startsWith('cache_hits_total') || l.startsWith('cache_misses_total'))
            .join('\n'),
        )
        detach()
        server.close()
      })
  }
})
