/**
 * What Redis holds for one metric, read straight from the server when a stale read shows up in
 * steady state: each cached aggregate (its version, when written, its TTL), whether the metric's
 * tag set lists it, and the tag fence. An entry missing from its tag set cannot be reached by a tag
 * invalidation, and stays until its TTL.
 */

/** The app's keys in Redis: `strata:analytics:` + cache key; tag sets and fences under `#`. */
const PREFIX = 'strata:analytics:'

/** Runs one Redis command on a connection of the soak's own (never through the proxy). */
export type AdminCommand = (args: string[]) => Promise<unknown>

/** One cached aggregate of the metric as Redis holds it. */
export interface L2Entry {
  key: string
  /** The filters of the aggregate: `{}` (all) or `{"user":...}`. */
  filters: string
  version: number | undefined
  createdAt: number | undefined
  pttl: number
  /** Listed in the `metric:` tag set (and so reachable by the writes' tag invalidation). */
  inMetricTagSet: boolean
  inUserTagSet: boolean
}

/** A probe of one metric at one moment (ms on the run clock). */
export interface L2Snapshot {
  at: number
  metric: string
  entries: L2Entry[]
  metricTagSet: string[]
  /**
   * When `metric:<metric>` was last invalidated, Redis's clock as the fence holds it (epoch µs since
   * "redis: fences in microseconds", epoch ms before), if the fence is still there.
   */
  metricFence: string | null
}

async function scanKeys(command: AdminCommand, match: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  let rounds = 0
  do {
    const [next, found] = (await command(['SCAN', cursor, 'MATCH', match, 'COUNT', '1000'])) as [
      string,
      string[],
    ]
    keys.push(...found)
    cursor = next
  } while (cursor !== '0' && ++rounds < 100)
  return keys
}

/** Reads the metric's entries, tag sets and fence; throws if Redis does not answer. */
export async function probeMetric(
  command: AdminCommand,
  metric: string,
  user: string,
  at: number,
): Promise<L2Snapshot> {
  const metricTagSet = ((await command(['SMEMBERS', `${PREFIX}#tag:metric:${metric}`])) as string[]).sort()
  const userTagSet = new Set((await command(['SMEMBERS', `${PREFIX}#tag:user:${user}`])) as string[])
  const metricFence = (await command(['GET', `${PREFIX}#ft:metric:${metric}`])) as string | null
  const entries: L2Entry[] = []
  for (const fullKey of await scanKeys(command, `${PREFIX}analytics:metric:${metric}:*`)) {
    const key = fullKey.slice(PREFIX.length)
    const text = String((await command(['GET', fullKey])) ?? '')
    const pttl = Number(await command(['PTTL', fullKey]))
    const header = text.split('\n', 1)[0]!.split('\t')
    entries.push({
      key,
      filters: /"filters":(\{[^}]*\})/.exec(text)?.[1] ?? '?',
      version: Number(/"max":(\d+)/.exec(text)?.[1] ?? Number.NaN) || undefined,
      createdAt: Number(header[1]) || undefined,
      pttl,
      inMetricTagSet: metricTagSet.includes(key),
      inUserTagSet: userTagSet.has(key),
    })
  }
  return { at, metric, entries, metricTagSet, metricFence }
}

/** True when the entry is in every tag set it carries: `metric:` always, `user:` for a user's aggregate. */
export function inItsTagSets(entry: L2Entry): boolean {
  return entry.inMetricTagSet && (entry.inUserTagSet || !entry.filters.includes('"user"'))
}

/** A fence's time in epoch ms, whichever unit it was written in (µs from 516173b on, ms before). */
export function fenceEpochMs(text: string): number {
  const value = Number(text)
  return value > 1e14 ? value / 1000 : value
}

/** One line per entry, for a timeline. */
export function describeSnapshot(snapshot: L2Snapshot, epochMs: number): string[] {
  const lines = [
    `Redis at ${(snapshot.at / 1000).toFixed(2)} s: ${snapshot.entries.length} entries of ${snapshot.metric}; tag fence metric:${snapshot.metric} ${snapshot.metricFence === null ? 'none' : `at ${((fenceEpochMs(snapshot.metricFence) - epochMs) / 1000).toFixed(3)} s`}`,
  ]
  for (const e of snapshot.entries) {
    const written = e.createdAt === undefined ? '?' : `${((e.createdAt - epochMs) / 1000).toFixed(2)} s`
    lines.push(
      `  ${e.key} ${e.filters} v${e.version ?? '?'} written ${written}, PTTL ${e.pttl} ms, in metric tag set: ${e.inMetricTagSet ? 'yes' : 'NO'}, in user tag set: ${e.inUserTagSet ? 'yes' : e.filters.includes('"user"') ? 'NO' : 'no (not tagged with the user)'}`,
    )
  }
  return lines
}
