import type { CacheStatus, CacheStatusTracker } from '@strata-cache/app-kit'
import { type Cache, defineKey, hashParams } from '@strata-cache/core'
import type { ComputationSlots } from './computation-slots.ts'
import type { Config } from './config.ts'
import { type ModelParams, roundModelParams } from './model-params.ts'
import { type OptimizationResult, optimizePlacement } from './placement-optimizer.ts'
import type { RackRepository, SpecMatch } from './rack-repository.ts'
import { FINE_MODEL, runCooperatively, solveThermal, type ThermalResult } from './thermal-model.ts'

/** Cache keys of the service: `{operation}:{resource}:{id}:{hash}`. */
export const thermalKey = defineKey('thermal:rack:{rackId}:{hash}')
export const optimizationKey = defineKey('optimization:rack:{rackId}:{hash}')
export const searchKey = defineKey('search:specs:{hash}')

/** The tag every cached computation over a rack carries; a write to the rack invalidates it. */
export function rackTag(rackId: number): string {
  return `rack:${rackId}`
}

export type { ModelParams } from './model-params.ts'

export interface Cached<T> {
  value: T
  status: CacheStatus
}

export interface ThermalAnalysis extends ThermalResult {
  rackId: number
  rackName: string
  heightU: number
  supplyC: number
  thresholdC: number
  computedAt: string
  computeMs: number
}

export interface RackOptimization extends OptimizationResult {
  rackId: number
  supplyC: number
  thresholdC: number
  computedAt: string
  computeMs: number
}

/** The model computations the service runs on a cache miss. */
export type ComputationKind = 'analysis' | 'optimization'

/** Told when a computation starts; the function it returns is called when it ends (either way). */
export type ComputationHook = (kind: ComputationKind, rackId: number) => () => void

/** The cached computations of the service, and the invalidation that keeps them right. */
export class ThermalService {
  constructor(
    private readonly racks: RackRepository,
    private readonly cache: Cache,
    private readonly tracker: CacheStatusTracker,
    private readonly config: Config,
    private readonly slots: ComputationSlots,
    private readonly onComputation: ComputationHook = () => () => {},
  ) {}

  /**
   * Inlet temperature per unit, hotspots and heat load; hundreds of ms cold, cached THERMAL_TTL.
   * The parameters are rounded to 0.1 °C first (see {@link roundModelParams}).
   */
  analysis(rackId: number, requested: ModelParams): Promise<Cached<ThermalAnalysis>> {
    const params = roundModelParams(requested)
    const key = thermalKey({ rackId, hash: hashParams(params) })
    return this.tracker.observe(key, () =>
      this.cache.getOrSet(
        key,
        () =>
          this.computing('analysis', rackId, async () => {
            const started = performance.now()
            const { rack, layout } = this.racks.layout(rackId)
            const result = await runCooperatively(solveThermal(layout, { ...FINE_MODEL, ...params }))
            return {
              rackId,
              rackName: rack.name,
              heightU: rack.heightU,
              ...params,
              ...result,
              computedAt: new Date().toISOString(),
              computeMs: Math.round(performance.now() - started),
            }
          }),
        // One pod computes; the others wait for its result in Redis (memory only: no-op).
        { ttl: this.config.thermalTtlMs, lock: true, tags: [rackTag(rackId)] },
      ),
    )
  }

  /** A better placement of the rack's devices; seconds cold, cached OPTIMIZATION_TTL; parameters rounded as for the analysis. */
  optimization(rackId: number, requested: ModelParams): Promise<Cached<RackOptimization>> {
    const params = roundModelParams(requested)
    const key = optimizationKey({ rackId, hash: hashParams(params) })
    return this.tracker.observe(key, () =>
      this.cache.getOrSet(
        key,
        () =>
          this.computing('optimization', rackId, async () => {
            const started = performance.now()
            const { layout } = this.racks.layout(rackId)
            const result = await runCooperatively(
              optimizePlacement(layout, {
                maxEvaluations: this.config.optimizationEvaluations,
                model: params,
              }),
            )
            return {
              rackId,
              ...params,
              ...result,
              computedAt: new Date().toISOString(),
              computeMs: Math.round(performance.now() - started),
            }
          }),
        { ttl: this.config.optimizationTtlMs, lock: true, tags: [rackTag(rackId)] },
      ),
    )
  }

  /** Device catalogue search; cheap, cached SEARCH_TTL. */
  searchSpecs(query: string, limit: number): Promise<Cached<{ query: string; results: SpecMatch[] }>> {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean)
    const key = searchKey({ hash: hashParams({ words, limit }) })
    return this.tracker.observe(key, () =>
      this.cache.getOrSet(key, () => ({ query, results: this.racks.searchSpecs(words, limit) }), {
        ttl: this.config.searchTtlMs,
      }),
    )
  }

  /** Runs a cold computation in one of the pod's slots (503 when none is free). */
  private computing<T>(kind: ComputationKind, rackId: number, compute: () => Promise<T>): Promise<T> {
    return this.slots.run(async () => {
      const done = this.onComputation(kind, rackId)
      try {
        return await compute()
      } finally {
        done()
      }
    })
  }

  /**
   * Drops the rack's analyses and optimizations on every pod (through the bus) by their tag: the
   * cost follows the entries that carry it, not the size of the keyspace (as a SCAN would).
   * Returns how many entries went.
   */
  invalidateRack(rackId: number): Promise<number> {
    return this.cache.invalidateTags([rackTag(rackId)])
  }
}
