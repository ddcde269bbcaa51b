import type { Cache } from '@strata-cache/core'
import type { FastifyBaseLogger } from 'fastify'
import type { ThermalService } from './thermal-service.ts'

/** The application channels thermal publishes on; every pod streams them to browsers (`GET /events`). */
export const THERMAL_CHANNELS = ['rack.updated', 'analysis.ready'] as const

/** `rack.updated`: a rack or its positions changed (its cached computations were just invalidated). */
export interface RackUpdated {
  rackId: number
  /** The pod that took the write. */
  pod: string
  at: string
}

/** `analysis.ready`: a pod computed an analysis or an optimization (now cached for every pod). */
export interface AnalysisReady {
  rackId: number
  kind: 'analysis' | 'optimization'
  computeMs: number
  pod: string
  at: string
}

const COMPUTATION_KEY = /^(thermal|optimization):rack:(\d+):/

/**
 * Tells every pod what happened to the racks, over the cache's application channels. A message
 * that cannot be sent (Redis down) is logged, never a failure of the write that caused it:
 * delivery is at most once, and the data is in the database either way.
 */
export class RackEvents {
  constructor(
    private readonly cache: Cache,
    private readonly pod: string,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** The service a RackService invalidates through, announcing each rack it invalidated. */
  announcing(thermal: Pick<ThermalService, 'invalidateRack'>): Pick<ThermalService, 'invalidateRack'> {
    return {
      invalidateRack: async (rackId) => {
        const removed = await thermal.invalidateRack(rackId)
        this.send('rack.updated', {
          rackId,
          pod: this.pod,
          at: new Date().toISOString(),
        } satisfies RackUpdated)
        return removed
      },
    }
  }

  /** Publishes `analysis.ready` whenever this pod's loader finished a computation; returns the function that stops. */
  watchComputations(): () => void {
    return this.cache.on('loader', (event) => {
      const match = event.ok ? COMPUTATION_KEY.exec(event.key) : null
      if (match === null) return
      const ready: AnalysisReady = {
        rackId: Number(match[2]),
        kind: match[1] === 'thermal' ? 'analysis' : 'optimization',
        computeMs: Math.round(event.durationMs),
        pod: this.pod,
        at: new Date().toISOString(),
      }
      this.send('analysis.ready', ready)
    })
  }

  private send(channel: (typeof THERMAL_CHANNELS)[number], message: RackUpdated | AnalysisReady): void {
    this.cache.publish(channel, message).catch((error: unknown) => {
      this.log.warn({ err: error, channel }, 'rack event not published')
    })
  }
}
