/** The second pod of the multi-process scenarios (`peer.ts <library>`), driven over IPC by a worker. */
import type { CompareCache } from './contenders/contender.ts'
import { contenderById } from './contenders/index.ts'
import { nowAbs, sleep, withDeadline, yieldToEventLoop } from './measure.ts'
import { makePayload, versionOf } from './payload.ts'
import { exitWithParent } from './processes.ts'
import { serve } from './rpc.ts'
import { stampedeSide } from './scenarios/stampede.ts'

exitWithParent()
const [libraryId] = process.argv.slice(2)
const redisUrl = process.env.STRATA_BENCH_REDIS_URL!
process.on('unhandledRejection', () => {})
process.on('uncaughtException', () => {})

// B reads the way a service does, read-through: getOrSet fills L1 in every library (a plain get
// does not in all of them). The loader only runs if the key is missing, which the writer never causes.
const ABSENT = -1
const absent = async () => makePayload(1, ABSENT)

let cache: CompareCache | undefined
let watching: Promise<{ firstSeen: Record<number, number>; reads: number; errors: number }> | undefined
let stopWatching = false

function need(): CompareCache {
  if (cache === undefined) throw new Error('peer: init first')
  return cache
}

serve(process, {
  async init() {
    cache = await contenderById(libraryId!).create(redisUrl)
    return true
  },
  async prime({ key }: { key: string }) {
    const deadline = Date.now() + 3_000
    while (Date.now() < deadline) {
      const value = await need().getOrSet(key, absent)
      if (versionOf(value) !== ABSENT) return versionOf(value)
      await sleep(10)
    }
    return undefined
  },
  watch({ key }: { key: string }) {
    stopWatching = false
    const c = need()
    watching = (async () => {
      const firstSeen: Record<number, number> = {}
      let reads = 0
      let errors = 0
      while (!stopWatching) {
        try {
          const version = versionOf(await c.getOrSet(key, absent))
          reads++
          if (version !== undefined && firstSeen[version] === undefined) firstSeen[version] = nowAbs()
        } catch {
          errors++
        }
        // A real service does other work between reads: let bus messages in.
        await yieldToEventLoop()
      }
      return { firstSeen, reads, errors }
    })()
    return true
  },
  async stopWatch() {
    stopWatching = true
    return watching
  },
  stampede(args: { key: string; startAt: number; callers: number; loaderMs: number }) {
    return stampedeSide(need(), args)
  },
  async close() {
    await withDeadline(need().close(), 3_000, 'close').catch(() => {})
    setTimeout(() => process.exit(0), 20)
    return true
  },
})
