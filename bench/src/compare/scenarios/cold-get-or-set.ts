import { concurrentRun, sleep } from '../measure.ts'
import { isPayloadOf, makePayload } from '../payload.ts'
import type { Scenario } from '../scenario.ts'

const CONCURRENCY = 100
const MAX_OPS = 60_000
const SAMPLE = 200
/** Left out of the figures: a fresh process compiles its code paths first (see the description). */
const WARMUP_MS = 500

export const coldGetOrSetScenario: Scenario = {
  id: 'cold-get-or-set',
  title: 'Cold getOrSet (write-through), 100 concurrent callers',
  repeat: 3,
  description: `${CONCURRENCY} concurrent callers each call \`getOrSet\` on keys never seen before (the loader returns a ~1 KB object at once), so every call misses L1 and L2, runs the loader and writes both tiers. 1.5 s or ${MAX_OPS.toLocaleString('en-US')} calls, after ${WARMUP_MS} ms of the same calls on other keys (left out: the JIT compiles each library's path in the first second of a fresh process, longer paths longer). Afterwards a fresh instance reads ${SAMPLE} of the keys back: each must be in Redis.`,
  async run(ctx) {
    const cache = await ctx.create()
    await concurrentRun((i) => cache.getOrSet(`cold:warm-up:${i}`, async () => makePayload(i)), {
      concurrency: CONCURRENCY,
      durationMs: WARMUP_MS,
      maxOps: MAX_OPS,
    })
    let loaderCalls = 0
    let wrong = 0
    const result = await concurrentRun(
      async (i) => {
        const value = await cache.getOrSet(`cold:item:${i}`, async () => {
          loaderCalls++
          return makePayload(i)
        })
        if (!isPayloadOf(value, i)) wrong++
      },
      { concurrency: CONCURRENCY, durationMs: 1_500, maxOps: MAX_OPS },
    )
    await sleep(300)
    const verifier = await ctx.create()
    let missingInL2 = 0
    const step = Math.max(1, Math.floor(result.ops / SAMPLE))
    let sampled = 0
    for (let i = 0; i < result.ops && sampled < SAMPLE; i += step, sampled++) {
      if (!isPayloadOf(await verifier.get(`cold:item:${i}`), i)) missingInL2++
    }
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
        loaderCallsPerCall: result.ops === 0 ? null : loaderCalls / result.ops,
        wrongValues: wrong,
        notReadableFromAnotherInstance: missingInL2,
        sampledFromAnotherInstance: sampled,
      },
      ...(result.firstError === undefined ? {} : { notes: [`first error: ${result.firstError}`] }),
    }
  },
}
