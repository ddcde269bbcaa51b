import { bentocacheContender } from './bentocache.ts'
import { cacheManagerContender } from './cache-manager.ts'
import { cacheableContender, cacheableNonBlockingContender } from './cacheable.ts'
import type { Contender } from './contender.ts'
import { strataClusterContender, strataContender, strataLockContender } from './strata.ts'

/** Every library in the comparison, Strata first (the ratios are to it). */
export const contenders: readonly Contender[] = [
  strataContender,
  bentocacheContender,
  cacheableContender,
  cacheManagerContender,
  strataLockContender,
  cacheableNonBlockingContender,
  strataClusterContender,
]

/** Contenders that run only in the named scenarios (variants, not the default setup). */
export const onlyIn: Readonly<Record<string, readonly string[]>> = {
  'strata-lock': ['stampede'],
  'cacheable-nb': ['l2-get', 'outage'],
  // Only with --cluster (main.ts leaves it out otherwise): Strata's L2 paths on a cluster.
  'strata-cluster': ['l2-get', 'cold-get-or-set'],
}

export function contenderById(id: string): Contender {
  const found = contenders.find((c) => c.id === id)
  if (found === undefined)
    throw new Error(`unknown library "${id}" (known: ${contenders.map((c) => c.id).join(', ')})`)
  return found
}
