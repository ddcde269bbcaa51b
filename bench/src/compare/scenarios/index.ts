import type { Scenario } from '../scenario.ts'
import { coldGetOrSetScenario } from './cold-get-or-set.ts'
import { invalidationScenario } from './invalidation.ts'
import { l1GetScenario } from './l1-get.ts'
import { l1GetOrSetScenario } from './l1-get-or-set.ts'
import { l2GetScenario } from './l2-get.ts'
import { outageScenario } from './outage.ts'
import { stampedeScenario } from './stampede.ts'

/** In run order. */
export const scenarios: readonly Scenario[] = [
  l1GetScenario,
  l1GetOrSetScenario,
  l2GetScenario,
  coldGetOrSetScenario,
  invalidationScenario,
  stampedeScenario,
  outageScenario,
]

export function scenarioById(id: string): Scenario {
  const found = scenarios.find((s) => s.id === id)
  if (found === undefined)
    throw new Error(`unknown scenario "${id}" (known: ${scenarios.map((s) => s.id).join(', ')})`)
  return found
}
