import { percentilesOf, sleep, withDeadline } from '../measure.ts'
import { isPayloadOf, makePayload } from '../payload.ts'
import type { Scenario } from '../scenario.ts'

const CALLERS = 20
const KEY_SPACE = 50_000
const BEFORE_MS = 1_500
/** Calls of the first half second (connections opening, JIT warming up) are left out of the before-outage figure. */
const WARMUP_MS = 500
const OUTAGE_MS = 3_000
const AFTER_MS = 3_000
const RECOVERY_LIMIT_MS = 10_000
const PROBE_EVERY_MS = 50

interface Call {
  start: number
  end: number
  failed: boolean
}

export const outageScenario: Scenario = {
  id: 'outage',
  title: 'Redis SIGSTOP for 3 s under load',
  description: `${CALLERS} concurrent callers run \`getOrSet\` on random keys among ${KEY_SPACE.toLocaleString('en-US')} (mostly L1 misses, so Redis is on the path). After ${BEFORE_MS / 1000} s (the first ${WARMUP_MS} ms are warm-up, left out of the before-outage p99) the redis-server process gets SIGSTOP (connections stay open, nothing answers), and SIGCONT ${OUTAGE_MS / 1000} s later. Counted: errors thrown to callers by calls in flight during the outage, p99/max latency of those calls (a call still pending at the end counts with its time so far), calls completed per second during it, and time to recover: from SIGCONT until a value \`set\` through one instance is read from Redis by a second instance (probed every ${PROBE_EVERY_MS} ms, up to ${RECOVERY_LIMIT_MS / 1000} s).`,
  async run(ctx) {
    const cache = await ctx.create()
    const verifier = await ctx.create()
    const calls: Call[] = []
    let stop = false
    let firstError: string | undefined
    const caller = async () => {
      while (!stop) {
        const id = Math.floor(Math.random() * KEY_SPACE)
        const call: Call = { start: performance.now(), end: Number.NaN, failed: false }
        calls.push(call)
        try {
          await cache.getOrSet(`out:item:${id}`, async () => makePayload(id))
        } catch (error) {
          call.failed = true
          firstError ??= String(error)
        }
        call.end = performance.now()
        // Let timers (the SIGSTOP schedule, breaker probes) run even when every call is an L1 hit.
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    const tLoad = performance.now()
    const load = Array.from({ length: CALLERS }, caller)
    await sleep(BEFORE_MS)
    const tStop = performance.now()
    await ctx.signalRedis('SIGSTOP')
    await sleep(OUTAGE_MS)
    await ctx.signalRedis('SIGCONT')
    const tCont = performance.now()

    let recoveredMs: number | null = null
    for (let n = 0; performance.now() - tCont < RECOVERY_LIMIT_MS; n++) {
      const key = `out:probe:${n}`
      try {
        await withDeadline(cache.set(key, makePayload(n)), 1_000, 'probe set')
        if (isPayloadOf(await withDeadline(verifier.get(key), 1_000, 'probe get'), n)) {
          recoveredMs = performance.now() - tCont
          break
        }
      } catch {
        // Not recovered yet.
      }
      await sleep(PROBE_EVERY_MS)
    }
    const afterUntil = tCont + AFTER_MS
    if (performance.now() < afterUntil) await sleep(afterUntil - performance.now())
    stop = true
    await Promise.race([Promise.all(load), sleep(5_000)])
    const end = performance.now()

    // Calls in flight at any moment of the outage: started before SIGCONT and not finished before SIGSTOP.
    const during = calls.filter((c) => c.start < tCont && !(c.end < tStop))
    const before = calls.filter((c) => c.start >= tLoad + WARMUP_MS && c.end < tStop)
    const latencies = during.map((c) => (Number.isNaN(c.end) ? end - c.start : c.end - c.start))
    const p = percentilesOf(latencies)
    const pBefore = percentilesOf(before.map((c) => c.end - c.start))
    const completedDuring = calls.filter((c) => c.end >= tStop && c.end < tCont).length
    return {
      scenario: this.id,
      library: ctx.contender.id,
      ops: calls.length,
      opsPerSec: (completedDuring / (tCont - tStop)) * 1000,
      p50Ms: p.p50,
      p99Ms: p.p99,
      maxMs: p.max,
      errors: during.filter((c) => c.failed).length,
      checks: {
        errorsAtAnyTime: calls.filter((c) => c.failed).length,
        callsInFlightDuringOutage: during.length,
        stillPendingAtEnd: calls.filter((c) => Number.isNaN(c.end)).length,
        recoveredMs,
        p99BeforeOutageMs: Number(pBefore.p99.toFixed(3)),
      },
      ...(firstError === undefined ? {} : { notes: [`first error: ${firstError.slice(0, 200)}`] }),
    }
  },
}
