import { sequentialLatency, sequentialThroughput, sleep } from '../measure.ts'
import { isPayloadOf, makePayload } from '../payload.ts'
import type { Scenario } from '../scenario.ts'

export const HOT_KEYS = 1_000

export const l1GetScenario: Scenario = {
  id: 'l1-get',
  title: 'L1-hit get',
  repeat: 3,
  description:
    '1,000 hot keys holding ~1 KB objects are set, then read once (so each is in L1). Then one caller awaits `get` on the keys in turn: ops/s over 1 s after a 0.3 s warm-up, p50/p99 from 50,000 individually timed calls.',
  async run(ctx) {
    const cache = await ctx.create()
    const keys = Array.from({ length: HOT_KEYS }, (_, i) => `hot:item:${i}`)
    for (let i = 0; i < HOT_KEYS; i++) await cache.set(keys[i]!, makePayload(i))
    await sleep(200)
    let wrong = 0
    for (let i = 0; i < HOT_KEYS; i++) if (!isPayloadOf(await cache.get(keys[i]!), i)) wrong++
    let misses = 0
    const op = async (i: number) => {
      if ((await cache.get(keys[i % HOT_KEYS]!)) === undefined) misses++
    }
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
      checks: { wrongValuesAfterSet: wrong, missesDuringRun: misses },
    }
  },
}
