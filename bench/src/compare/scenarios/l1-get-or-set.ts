import { sequentialLatency, sequentialThroughput, sleep } from '../measure.ts'
import { isPayloadOf, makePayload } from '../payload.ts'
import type { Scenario } from '../scenario.ts'
import { HOT_KEYS } from './l1-get.ts'

export const l1GetOrSetScenario: Scenario = {
  id: 'l1-get-or-set',
  title: 'L1-hit getOrSet',
  repeat: 3,
  description:
    'The same 1,000 hot ~1 KB keys, loaded once through `getOrSet`; then one caller awaits `getOrSet` on the keys in turn (the loader must not run again): ops/s over 1 s after a 0.3 s warm-up, p50/p99 from 50,000 timed calls.',
  async run(ctx) {
    const cache = await ctx.create()
    const keys = Array.from({ length: HOT_KEYS }, (_, i) => `hot:item:${i}`)
    let loaderCalls = 0
    const loaders = keys.map((_, i) => async () => {
      loaderCalls++
      return makePayload(i)
    })
    let wrong = 0
    for (let i = 0; i < HOT_KEYS; i++)
      if (!isPayloadOf(await cache.getOrSet(keys[i]!, loaders[i]!), i)) wrong++
    await sleep(200)
    const firstLoads = loaderCalls
    const op = (i: number) => cache.getOrSet(keys[i % HOT_KEYS]!, loaders[i % HOT_KEYS]!)
    const { opsPerSec, ops } = await sequentialThroughput(op, { warmupMs: 300, durationMs: 1000 })
    const latency = await sequentialLatency(op, 50_000)
    return {
      scenario: this.id,
      library: ctx.contender.id,
      opsPerSec,
      ops,
      p50Ms: latency.p50,
      p99Ms: latency.p99,
      maxMs: latency.max,
      errors: 0,
      checks: { wrongValues: wrong, firstLoads, extraLoaderCalls: loaderCalls - firstLoads },
    }
  },
}
