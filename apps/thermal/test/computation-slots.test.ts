import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type AppCache, CacheStatusTracker, createAppCache, HttpError } from '@strata-cache/app-kit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ComputationSlots } from '../src/computation-slots.ts'
import { loadConfig } from '../src/config.ts'
import { type Db, openDatabase } from '../src/database.ts'
import { RackRepository } from '../src/rack-repository.ts'
import { ThermalService } from '../src/thermal-service.ts'

// In process, so that no CPU contention decides the outcome: a slot is held by a computation that
// waits on the test, and what needs no computation is answered meanwhile.
let dir: string
let db: Db
let appCache: AppCache

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'thermal-slots-'))
  db = openDatabase(join(dir, 'thermal.db'))
  appCache = createAppCache('thermal-slots', undefined, { defaultTtl: '5m' })
})

afterAll(async () => {
  await appCache?.close()
  db?.close()
  rmSync(dir, { recursive: true, force: true })
})

function rackWithDevice(racks: RackRepository, name: string): number {
  const rack = racks.create({ name, heightU: 12 })
  racks.addPosition(rack.id, { name: 'd', startU: 3, heightU: 2, powerWatts: 800 })
  return rack.id
}

describe('ComputationSlots in ThermalService', () => {
  it('refuses a cold computation past the cap with 503 E_BUSY, while cache hits take no slot', async () => {
    const racks = new RackRepository(db)
    const slots = new ComputationSlots(1)
    const tracker = new CacheStatusTracker(appCache.cache)
    const thermal = new ThermalService(racks, appCache.cache, tracker, loadConfig({}), slots)
    const params = { supplyC: 18, thresholdC: 27 }
    const warm = rackWithDevice(racks, 'warm')
    const cold = rackWithDevice(racks, 'cold')
    expect((await thermal.analysis(warm, params)).status).toBe('miss')

    let release = () => {}
    const held = slots.run(() => new Promise<void>((resolve) => (release = resolve)))
    expect(slots.inUse).toBe(1)
    try {
      expect((await thermal.analysis(warm, params)).status).toBe('hit')
      const busy = await thermal.analysis(cold, params).then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(busy).toBeInstanceOf(HttpError)
      expect(busy).toMatchObject({ statusCode: 503, code: 'E_BUSY', headers: { 'retry-after': '2' } })
    } finally {
      release()
      await held
    }
    expect(slots.inUse).toBe(0)
    // Not cached: with the slot free, the same request computes.
    expect((await thermal.analysis(cold, params)).status).toBe('miss')
    tracker.close()
  })
})
