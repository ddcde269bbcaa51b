import { nowAbs, percentilesOf, sleep } from '../measure.ts'
import { makePayload } from '../payload.ts'
import type { Scenario } from '../scenario.ts'

const UPDATES = 100
const INTERVAL_MS = 20
const WINDOW_MS = 1_000

export const invalidationScenario: Scenario = {
  id: 'invalidation',
  title: 'Invalidation propagation between two processes',
  description: `Process A writes one key; process B reads it through \`getOrSet\` (so B holds it in L1). A then \`set\`s ${UPDATES} new versions, one every ${INTERVAL_MS} ms, while B reads it with \`getOrSet\` in a loop (yielding to the event loop between reads). Latency = time from A's \`set\` resolving to B first reading that version or a newer one. An update B did not see within ${WINDOW_MS / 1000} s is "unseen": B kept serving an older value.`,
  async run(ctx) {
    const writer = await ctx.create()
    const peer = await ctx.peer()
    const key = 'inv:item:1'
    await writer.set(key, makePayload(1, 0))
    await sleep(100)
    const primed = await peer.prime(key)
    await peer.watch(key)
    const setAt: number[] = []
    let errors = 0
    for (let v = 1; v <= UPDATES; v++) {
      try {
        await writer.set(key, makePayload(1, v))
      } catch {
        errors++
      }
      setAt[v] = nowAbs()
      await sleep(INTERVAL_MS)
    }
    await sleep(WINDOW_MS)
    const watched = await peer.stopWatch()
    // B saw update v at the first read of v or any later version.
    const seenAt: number[] = []
    let earliest = Number.POSITIVE_INFINITY
    for (let v = UPDATES; v >= 1; v--) {
      earliest = Math.min(earliest, watched.firstSeen[v] ?? Number.POSITIVE_INFINITY)
      seenAt[v] = earliest
    }
    const latencies: number[] = []
    let unseen = 0
    for (let v = 1; v <= UPDATES; v++) {
      const lag = seenAt[v]! - setAt[v]!
      if (!(lag <= WINDOW_MS)) unseen++
      else latencies.push(Math.max(0, lag))
    }
    const p = percentilesOf(latencies)
    const lastSeen = Math.max(0, ...Object.keys(watched.firstSeen).map(Number))
    return {
      scenario: this.id,
      library: ctx.contender.id,
      ops: UPDATES,
      p50Ms: latencies.length > 0 ? p.p50 : undefined,
      p99Ms: latencies.length > 0 ? p.p99 : undefined,
      maxMs: latencies.length > 0 ? p.max : undefined,
      errors: errors + watched.errors,
      checks: {
        primedVersion: primed ?? null,
        unseenWithin1s: unseen,
        lastVersionSeenByB: lastSeen,
        readsByB: watched.reads,
      },
    }
  },
}
