import { describe, expect, it } from 'vitest'
import { optimizePlacement } from '../src/placement-optimizer.ts'
import {
  COARSE_MODEL,
  layoutProblem,
  type PlacedDevice,
  runToEnd,
  solveThermal,
} from '../src/thermal-model.ts'

const gappy: PlacedDevice[] = [
  { id: 1, name: 'gpu-1', startU: 30, heightU: 4, powerWatts: 3000 },
  { id: 2, name: 'gpu-2', startU: 20, heightU: 4, powerWatts: 3000 },
  { id: 3, name: 'srv', startU: 8, heightU: 2, powerWatts: 800 },
]

function analyse(devices: PlacedDevice[], heightU = 42) {
  return runToEnd(solveThermal({ heightU, devices }, COARSE_MODEL))
}

describe('thermal model', () => {
  it('converges, and every inlet is at least the supply temperature', () => {
    const result = analyse(gappy)
    expect(result.converged).toBe(true)
    expect(result.units).toHaveLength(42)
    for (const unit of result.units) expect(unit.inletC).toBeGreaterThanOrEqual(COARSE_MODEL.supplyC - 0.01)
  })

  it('counts every watt as heat load', () => {
    const result = analyse(gappy)
    expect(result.totalHeatLoadW).toBe(6800)
    expect(result.totalHeatLoadBtuPerHour).toBe(Math.round(6800 * 3.412142))
  })

  it('gets hotter with more power, and an empty rack stays at supply temperature', () => {
    const low = analyse([{ id: 1, name: 'a', startU: 10, heightU: 2, powerWatts: 300 }])
    const high = analyse([{ id: 1, name: 'a', startU: 10, heightU: 2, powerWatts: 3000 }])
    expect(high.units[10]!.exhaustC).toBeGreaterThan(low.units[10]!.exhaustC)
    const empty = analyse([])
    expect(empty.maxInletC).toBe(COARSE_MODEL.supplyC)
    expect(empty.hotspots).toEqual([])
  })

  it('finds hotspots next to open units (recirculation) that a packed layout avoids', () => {
    const spread = analyse(gappy)
    const packed = analyse([
      { ...gappy[0]!, startU: 1 },
      { ...gappy[1]!, startU: 5 },
      { ...gappy[2]!, startU: 9 },
    ])
    expect(spread.hotspots.length).toBeGreaterThan(0)
    expect(spread.hotspots[0]!.inletC).toBeGreaterThan(COARSE_MODEL.thresholdC)
    expect(packed.maxInletC).toBeLessThan(spread.maxInletC)
  })

  it('names a device that does not fit or overlaps', () => {
    expect(
      layoutProblem({ heightU: 10, devices: [{ id: 1, name: 'x', startU: 9, heightU: 3, powerWatts: 1 }] }),
    ).toContain('does not fit in a 10U rack')
    expect(
      layoutProblem({
        heightU: 10,
        devices: [
          { id: 1, name: 'a', startU: 1, heightU: 2, powerWatts: 1 },
          { id: 2, name: 'b', startU: 2, heightU: 1, powerWatts: 1 },
        ],
      }),
    ).toBe('position "b" overlaps "a" at U2')
    expect(layoutProblem({ heightU: 42, devices: gappy })).toBeUndefined()
  })
})

describe('placement optimizer', () => {
  const options = { maxEvaluations: 12, model: { supplyC: 18, thresholdC: 27 } }

  it('proposes a layout no hotter than today, with valid moves, within its evaluation bound', () => {
    const result = runToEnd(optimizePlacement({ heightU: 42, devices: gappy }, options))
    expect(result.evaluations).toBeLessThanOrEqual(12)
    expect(result.proposed.maxInletC).toBeLessThanOrEqual(result.current.maxInletC)
    expect(result.improvementK).toBeGreaterThan(0)
    expect(layoutProblem({ heightU: 42, devices: result.proposed.devices })).toBeUndefined()
    expect(result.proposed.devices.map((d) => d.id).sort()).toEqual([1, 2, 3])
    for (const move of result.moves) expect(move.fromStartU).not.toBe(move.toStartU)
  })

  it('gives the same answer every time for the same rack (every pod agrees)', () => {
    const a = runToEnd(optimizePlacement({ heightU: 42, devices: gappy }, options))
    const b = runToEnd(optimizePlacement({ heightU: 42, devices: gappy }, options))
    expect(b).toEqual(a)
  })
})
