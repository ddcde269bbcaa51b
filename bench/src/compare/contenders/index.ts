import { bentocacheContender } from './bentocache.ts'
import { cacheManagerContender } from './cache-manager.ts'
import { cacheableContender, cacheableNonBlockingContender } from './cacheable.ts'
import type { Contender } from './contender.ts'
import { naiveIoredisContender } from './naive-ioredis.ts'
import {
  strataClusterContender,
  strataContender,
  strataLockContender,
  strataRedisOnlyContender,
} from './strata.ts'

/** Every library in the comparison, Strata first (the ratios are to it). */
export const contenders: readonly Contender[] = [
  strataContender,
  bentocacheContender,
  cacheableContender,
  cacheManagerContender,
  strataLockContender,
  cacheableNonBlockingContender,
  strataClusterContender,
  naiveIoredisContender,
  strataRedisOnlyContender,
]

/** Contenders that run only in the named scenarios (variants and references, not the default setup). */
export const onlyIn: Readonly<Record<string, readonly string[]>> = {
  'strata-lock': ['stampede'],
  'cacheable-nb': ['l2-get', 'outage'],
  // Only with --cluster (main.ts leaves it out otherwise): Strata's L2 paths on a cluster.
  'strata-cluster': ['l2-get', 'cold-get-or-set'],
  'naive-ioredis': ['cold-get-or-set', 'l2-get'],
  'strata-redis-only': ['cold-get-or-set', 'l2-get'],
}

/** Yardsticks for issue 15's goals, not peers: left out of "Where Strata is not ahead" and of the peers it must beat. */
export const references: ReadonlySet<string> = new Set(['naive-ioredis', 'strata-redis-only'])

/** Other libraries (and their variants) that Strata is compared against. */
export function isPeer(id: string): boolean {
  return !id.startsWith('strata') && !id.startsWith('baseline:') && !references.has(id)
}

export function contenderById(id: string): Contender {
  const found = contenders.find((c) => c.id === id)
  if (found === undefined)
    throw new Error(`unknown library "${id}" (known: ${contenders.map((c) => c.id).join(', ')})`)
  return found
}
