import type { Db } from './database.ts'
import type { PositionInput } from './rack-repository.ts'
import { RackRepository } from './rack-repository.ts'

// Three racks an operator would recognise: a GPU rack with gaps (hotspots), a tidy compute rack,
// and a half-empty network rack.
const SAMPLES: readonly { name: string; heightU: number; positions: PositionInput[] }[] = [
  {
    name: 'gpu-row-a-01',
    heightU: 42,
    positions: [
      { name: 'tor-switch', startU: 42, heightU: 1, powerWatts: 450 },
      { name: 'gpu-node-1', startU: 30, heightU: 4, powerWatts: 3200 },
      { name: 'gpu-node-2', startU: 22, heightU: 4, powerWatts: 3200 },
      { name: 'compute-1', startU: 10, heightU: 2, powerWatts: 900 },
      { name: 'compute-2', startU: 5, heightU: 2, powerWatts: 900 },
      { name: 'storage-1', startU: 1, heightU: 3, powerWatts: 1200 },
    ],
  },
  {
    name: 'compute-row-b-04',
    heightU: 42,
    positions: Array.from({ length: 16 }, (_, i) => ({
      name: `web-${String(i + 1).padStart(2, '0')}`,
      startU: 1 + i * 2,
      heightU: 2,
      powerWatts: 650,
    })),
  },
  {
    name: 'network-row-c-02',
    heightU: 24,
    positions: [
      { name: 'core-1', startU: 20, heightU: 1, powerWatts: 400 },
      { name: 'core-2', startU: 18, heightU: 1, powerWatts: 400 },
      { name: 'firewall', startU: 12, heightU: 2, powerWatts: 350 },
      { name: 'ups', startU: 1, heightU: 2, powerWatts: 250 },
    ],
  },
]

/** Creates the sample racks when the database has no rack yet; returns their ids. */
export function seedSampleRacks(db: Db): number[] {
  const racks = new RackRepository(db)
  return db
    .transaction(() => {
      if (racks.list().length > 0) return racks.list().map((r) => r.id)
      return SAMPLES.map((sample) => {
        const rack = racks.create({ name: sample.name, heightU: sample.heightU })
        for (const position of sample.positions) racks.addPosition(rack.id, position)
        return rack.id
      })
    })
    .immediate()
}
