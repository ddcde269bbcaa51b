import { type LiveViewOptions, registerLiveView } from '@strata-cache/app-kit'
import type { Cache } from '@strata-cache/core'
import type { FastifyInstance } from 'fastify'
import { RackEvents, THERMAL_CHANNELS } from './rack-events.ts'
import type { RackRepository } from './rack-repository.ts'
import { RackWarmer } from './rack-warmer.ts'
import { FINE_MODEL } from './thermal-model.ts'
import type { ThermalService } from './thermal-service.ts'

/** What thermal's live view needs. */
export interface ThermalLiveOptions {
  cache: Cache
  repository: RackRepository
  thermal: ThermalService
  adminToken: string | undefined
  /** Route options of the admin routes (the app's admin rate limit, then the token). @default the token alone */
  admin?: LiveViewOptions['admin']
  /** How often the warmer runs; 0: never (pausing still shows). */
  warmIntervalMs: number
}

/**
 * Thermal's live view: the kit's dashboard and event stream with the `rack.updated` and
 * `analysis.ready` channels, and the warmer that `pause-warming` / `resume-warming` (sent to any
 * pod: `POST /admin/control`) pause and resume on every pod. `GET /api/warming` shows its state.
 * Returns the service a RackService should invalidate through, so that writes are announced.
 */
export function thermalLive(
  app: FastifyInstance,
  options: ThermalLiveOptions,
): { racks: Pick<ThermalService, 'invalidateRack'> } {
  const { cache, repository, thermal } = options
  const live = registerLiveView(app, {
    name: 'thermal',
    cache,
    adminToken: options.adminToken,
    ...(options.admin === undefined ? {} : { admin: options.admin }),
    channels: THERMAL_CHANNELS,
  })
  const events = new RackEvents(cache, live.pod, app.log)
  const stopWatching = events.watchComputations()
  const defaults = { supplyC: FINE_MODEL.supplyC, thresholdC: FINE_MODEL.thresholdC }
  const warmer = new RackWarmer(
    () => repository.list().map((rack) => rack.id),
    (rackId) => thermal.analysis(rackId, defaults),
    options.warmIntervalMs,
    app.log,
  )
  live.control.register('pause-warming', ({ by, at }) => warmer.pause(by, at))
  live.control.register('resume-warming', ({ by, at }) => warmer.resume(by, at))
  live.state('warming', () => warmer.state())
  app.get('/api/warming', async () => ({ pod: live.pod, ...warmer.state() }))
  app.addHook('preClose', async () => {
    warmer.close()
    stopWatching()
  })
  return { racks: events.announcing(thermal) }
}
