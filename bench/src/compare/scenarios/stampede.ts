import type { CompareCache } from '../contenders/contender.ts'
import { nowAbs, percentilesOf, sleep } from '../measure.ts'
import type { Scenario, StampedeSide } from '../scenario.ts'

export const STAMPEDE_CALLERS = 1_000
export const STAMPEDE_LOADER_MS = 50
const ROUNDS = 3

/** `callers` concurrent getOrSet on one cold key; shared by this process and the peer. */
export async function stampedeSide(
  cache: CompareCache,
  args: { key: string; startAt: number; callers: number; loaderMs: number },
): Promise<StampedeSide> {
  const wait = args.startAt - nowAbs()
  if (wait > 0) await sleep(wait)
  let loaderCalls = 0
  const loader = async () => {
    const token = `${process.pid}-${++loaderCalls}`
    await sleep(args.loaderMs)
    return { token }
  }
  let errors = 0
  const firstCallAt = nowAbs()
  const values = new Set<string>()
  const durations: number[] = []
  await Promise.all(
    Array.from({ length: args.callers }, async () => {
      const t = performance.now()
      try {
        const value = (await cache.getOrSet(args.key, loader)) as { token?: string } | undefined
        values.add(String(value?.token))
      } catch {
        errors++
      }
      durations.push(performance.now() - t)
    }),
  )
  const p = percentilesOf(durations)
  return { loaderCalls, errors, values: [...values], p99Ms: p.p99, maxMs: p.max, firstCallAt }
}

export const stampedeScenario: Scenario = {
  id: 'stampede',
  title: 'Stampede: 1,000 concurrent getOrSet on one cold key',
  description: `${STAMPEDE_CALLERS.toLocaleString('en-US')} concurrent \`getOrSet\` calls on one cold key with a ${STAMPEDE_LOADER_MS} ms loader, in one process, then across two processes (${STAMPEDE_CALLERS.toLocaleString('en-US')} in each, started at the same instant). ${ROUNDS} rounds each on fresh keys; the figure is loader calls per round (ideal: 1), and how many different values callers got.`,
  async run(ctx) {
    const cache = await ctx.create()
    const single: StampedeSide[] = []
    for (let r = 0; r < ROUNDS; r++) {
      single.push(
        await stampedeSide(cache, {
          key: `stampede:one:${r}`,
          startAt: 0,
          callers: STAMPEDE_CALLERS,
          loaderMs: STAMPEDE_LOADER_MS,
        }),
      )
    }
    const peer = await ctx.peer()
    const pairs: {
      loaderCalls: number
      values: number
      errors: number
      p99: number
      max: number
      skew: number
    }[] = []
    for (let r = 0; r < ROUNDS; r++) {
      const args = {
        key: `stampede:two:${r}`,
        startAt: nowAbs() + 300,
        callers: STAMPEDE_CALLERS,
        loaderMs: STAMPEDE_LOADER_MS,
      }
      const [a, b] = await Promise.all([stampedeSide(cache, args), peer.stampede(args)])
      pairs.push({
        loaderCalls: a.loaderCalls + b.loaderCalls,
        values: new Set([...a.values, ...b.values]).size,
        errors: a.errors + b.errors,
        p99: Math.max(a.p99Ms, b.p99Ms),
        max: Math.max(a.maxMs, b.maxMs),
        skew: Math.abs(a.firstCallAt - b.firstCallAt),
      })
    }
    const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length
    return {
      scenario: this.id,
      library: ctx.contender.id,
      p99Ms: Math.max(...single.map((s) => s.p99Ms), ...pairs.map((p) => p.p99)),
      maxMs: Math.max(...single.map((s) => s.maxMs), ...pairs.map((p) => p.max)),
      errors: single.reduce((s, x) => s + x.errors, 0) + pairs.reduce((s, x) => s + x.errors, 0),
      checks: {
        loaderCallsOneProcess: avg(single.map((s) => s.loaderCalls)),
        distinctValuesOneProcess: Math.max(...single.map((s) => s.values.length)),
        loaderCallsTwoProcesses: avg(pairs.map((p) => p.loaderCalls)),
        distinctValuesTwoProcesses: Math.max(...pairs.map((p) => p.values)),
      },
      notes: [
        `loader calls per round, one process: ${single.map((s) => s.loaderCalls).join(', ')}; two processes: ${pairs.map((p) => p.loaderCalls).join(', ')} (start skew between the processes: ${pairs.map((p) => `${p.skew.toFixed(1)} ms`).join(', ')}; a skew over the ${STAMPEDE_LOADER_MS} ms loader lets the later process find the value in Redis)`,
      ],
    }
  },
}
