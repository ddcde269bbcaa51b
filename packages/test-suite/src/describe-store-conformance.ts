import type { CacheEntry, CacheStore } from '@strata-cache/core'
import { afterEach, beforeEach, describe } from 'vitest'
import { describeBatches } from './conformance/batches.ts'
import { describeClearAndIsolation } from './conformance/clear-and-isolation.ts'
import { describeFreshness } from './conformance/freshness.ts'
import { describeLifecycleAndReporting } from './conformance/lifecycle-and-reporting.ts'
import { resolveCapabilities, type StoreConformanceOptions } from './conformance/options.ts'
import { describePatternDeletes } from './conformance/pattern-deletes.ts'
import { type EntryShape, freshPrefix, MINUTE, type SuiteContext } from './conformance/suite-context.ts'
import { describeTagDeletes } from './conformance/tag-deletes.ts'
import { describeValues } from './conformance/values.ts'
import { createManualClock, type ManualClock } from './manual-clock.ts'

/**
 * Registers vitest blocks that check any CacheStore against the contract: round trips, freshness
 * and grace, pattern and tag deletes, batches, prefix isolation, refusal of bad values, close, and
 * stats/health. Call it at the top level of a test file.
 */
export function describeStoreConformance(options: StoreConformanceOptions): void {
  const caps = resolveCapabilities(options)

  describe(`${options.name} store conformance`, () => {
    let prefix = ''
    let clock: ManualClock = createManualClock(0)
    let opened: CacheStore[] = []

    beforeEach(() => {
      prefix = freshPrefix()
      clock = createManualClock(Date.now())
      opened = []
    })

    afterEach(async () => {
      // Stores a test already closed may reject a second close; that is the test's business.
      await Promise.allSettled(opened.map((store) => store.close()))
    })

    const now = () => (caps.injectableClock ? clock.now() : Date.now())
    const suite: SuiteContext = {
      caps,
      prefix: () => prefix,
      async open(storePrefix = prefix) {
        const store = await options.createStore({
          prefix: storePrefix,
          now: caps.injectableClock ? clock.now : () => Date.now(),
        })
        opened.push(store)
        return store
      },
      now,
      advance: (ms) => clock.advance(ms),
      entry<T>(value: T, shape: EntryShape = {}): CacheEntry<T> {
        const at = now()
        const expiresAt = at + (shape.ttl ?? 10 * MINUTE)
        const made: CacheEntry<T> = {
          value,
          createdAt: at,
          expiresAt,
          staleUntil: expiresAt + (shape.grace ?? 0),
        }
        if (shape.tags !== undefined) made.tags = shape.tags
        return made
      },
      needs(context, capability, wanted, why) {
        if (caps[capability] !== wanted)
          context.skip(`store declares ${capability}: ${caps[capability]}; ${why}`)
      },
    }

    describeValues(suite)
    describeFreshness(suite)
    describePatternDeletes(suite)
    describeTagDeletes(suite)
    describeBatches(suite)
    describeClearAndIsolation(suite)
    describeLifecycleAndReporting(suite)
  })
}
