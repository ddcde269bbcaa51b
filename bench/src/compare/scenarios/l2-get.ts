import { concurrentRun, sleep } from '../measure.ts'
import { isPayloadOf, makePayload } from '../payload.ts'
import type { Scenario } from '../scenario.ts'

const KEYS = 40_000
const CONCURRENCY = 100
/** Keys the reader reads first, left out of the figures: a fresh process compiles its code paths first. */
const WARMUP_KEYS = 5_000

export const l2GetScenario: Scenario = {
  id: 'l2-get',
  title: 'L2-only get, 100 concurrent callers',
  repeat: 3,
  description: `A first instance writes ${KEYS.toLocaleString('en-US')} ~1 KB keys; a second, fresh instance (empty L1) reads each key once with ${CONCURRENCY} concurrent callers, so every read misses L1 and hits Redis; before them it reads ${WARMUP_KEYS.toLocaleString('en-US')} other written keys the same way (left out: the JIT compiles each library's path in the first second of a fresh process, longer paths longer). ops/s, p50/p99 per call; a read that returns nothing or the wrong object is counted, and so is a written key that Redis does not hold after the writes (counted with DBSIZE).`,
  async run(ctx) {
    const writer = await ctx.create()
    const keys = Array.from({ length: KEYS }, (_, i) => `l2:item:${i}`)
    const fill = await concurrentRun((i) => writer.set(keys[i]!, makePayload(i)), {
      concurrency: CONCURRENCY,
      durationMs: 30_000,
      maxOps: KEYS,
    })
    const warmUp = (i: number) => `l2:warm-up:${i}`
    await concurrentRun((i) => writer.set(warmUp(i), makePayload(i)), {
      concurrency: CONCURRENCY,
      durationMs: 30_000,
      maxOps: WARMUP_KEYS,
    })
    await sleep(300)
    // Redis was flushed before this run: what it holds now is what the writes really stored.
    const keysInRedis = await ctx.countKeys()
    const reader = await ctx.create()
    await sleep(200)
    await concurrentRun((i) => reader.get(warmUp(i)), {
      concurrency: CONCURRENCY,
      durationMs: 20_000,
      maxOps: WARMUP_KEYS,
    })
    let misses = 0
    let wrong = 0
    const result = await concurrentRun(
      async (i) => {
        const value = await reader.get(keys[i]!)
        if (value === undefined) misses++
        else if (!isPayloadOf(value, i)) wrong++
      },
      { concurrency: CONCURRENCY, durationMs: 20_000, maxOps: KEYS },
    )
    return {
      scenario: this.id,
      library: ctx.contender.id,
      opsPerSec: result.opsPerSec,
      ops: result.ops,
      p50Ms: result.p50,
      p99Ms: result.p99,
      maxMs: result.max,
      errors: result.errors,
      checks: {
        missesOfWrittenKeys: misses,
        wrongValues: wrong,
        writeErrors: fill.errors,
        writesMissingFromRedis: Math.max(0, KEYS + WARMUP_KEYS - keysInRedis),
      },
      ...(result.firstError === undefined ? {} : { notes: [`first error: ${result.firstError}`] }),
    }
  },
}
