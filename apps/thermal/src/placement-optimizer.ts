import {
  COARSE_MODEL,
  FINE_MODEL,
  type ModelOptions,
  type PlacedDevice,
  type RackLayout,
  solveThermal,
  type ThermalResult,
} from './thermal-model.ts'

export interface OptimizationOptions {
  /** Candidate layouts evaluated with the coarse model; bounds the run. */
  maxEvaluations: number
  /** Hotspot threshold and supply temperature, as for the analysis. */
  model: Pick<ModelOptions, 'supplyC' | 'thresholdC'>
}

export interface DeviceMove {
  deviceId: number
  name: string
  fromStartU: number
  toStartU: number
}

export interface OptimizationResult {
  current: { maxInletC: number; hotspotCount: number; totalHeatLoadW: number }
  proposed: { maxInletC: number; hotspotCount: number; devices: PlacedDevice[] }
  /** Devices that change place. */
  moves: DeviceMove[]
  /** How much cooler the hottest inlet gets, K (0 when the current layout is already best). */
  improvementK: number
  evaluations: number
}

/**
 * Searches placements: a candidate is an order of the devices, stacked without gaps (open units
 * recirculate hot air) from an offset. Simulated annealing over swaps and offset shifts, scored
 * with the coarse model; the current and the best layouts are then solved at full resolution.
 * Seeded from the layout, so every pod proposes the same answer for the same rack.
 */
export function* optimizePlacement(
  layout: RackLayout,
  options: OptimizationOptions,
): Generator<void, OptimizationResult> {
  const fine = { ...FINE_MODEL, ...options.model }
  const coarse = { ...COARSE_MODEL, ...options.model }
  const devices = layout.devices
  const current = yield* solveThermal(layout, fine)

  const usedU = devices.reduce((sum, d) => sum + d.heightU, 0)
  const freeU = layout.heightU - usedU
  if (devices.length === 0) {
    return {
      current: summary(current),
      proposed: { maxInletC: current.maxInletC, hotspotCount: 0, devices: [] },
      moves: [],
      improvementK: 0,
      evaluations: 0,
    }
  }

  const random = mulberry32(seedOf(layout))
  const scores = new Map<string, number>()
  let evaluations = 0
  function* score(order: readonly number[], offset: number): Generator<void, number> {
    const id = `${order.join(',')}@${offset}`
    const known = scores.get(id)
    if (known !== undefined) return known
    evaluations++
    const result = yield* solveThermal(stack(devices, order, offset, layout.heightU), coarse, 50)
    const value = objective(result, coarse.thresholdC)
    scores.set(id, value)
    return value
  }

  // Start from the current vertical order, stacked from the bottom.
  let order = devices.map((_, i) => i).sort((a, b) => devices[a]!.startU - devices[b]!.startU)
  let offset = 0
  let value = yield* score(order, offset)
  let best = { order: [...order], offset, value }
  let temperature = 2
  // Revisiting a scored candidate costs nothing, so bound the steps as well as the evaluations.
  for (let step = 0; evaluations < options.maxEvaluations && step < options.maxEvaluations * 20; step++) {
    const nextOrder = [...order]
    let nextOffset = offset
    if (devices.length > 1 && (freeU === 0 || random() < 0.75)) {
      const a = Math.floor(random() * devices.length)
      const b = Math.floor(random() * devices.length)
      ;[nextOrder[a], nextOrder[b]] = [nextOrder[b]!, nextOrder[a]!]
    } else if (freeU > 0) {
      nextOffset = Math.min(
        freeU,
        Math.max(0, offset + (random() < 0.5 ? -1 : 1) * (1 + Math.floor(random() * 3))),
      )
    }
    const before = evaluations
    const nextValue = yield* score(nextOrder, nextOffset)
    if (evaluations === before && scores.size >= factorialBound(devices.length, freeU)) break // space exhausted
    if (nextValue < value || random() < Math.exp((value - nextValue) / temperature)) {
      order = nextOrder
      offset = nextOffset
      value = nextValue
      if (value < best.value) best = { order: [...order], offset, value }
    }
    temperature *= 0.96
  }

  const proposedLayout = stack(devices, best.order, best.offset, layout.heightU)
  let proposed = yield* solveThermal(proposedLayout, fine)
  let proposedDevices = proposedLayout.devices
  // The coarse model can mislead on a near tie: never propose something worse than today.
  if (objective(proposed, fine.thresholdC) >= objective(current, fine.thresholdC)) {
    proposed = current
    proposedDevices = devices
  }
  const moves = proposedDevices
    .map((d) => ({ d, from: devices.find((x) => x.id === d.id)! }))
    .filter(({ d, from }) => d.startU !== from.startU)
    .map(({ d, from }) => ({ deviceId: d.id, name: d.name, fromStartU: from.startU, toStartU: d.startU }))
  return {
    current: summary(current),
    proposed: {
      maxInletC: proposed.maxInletC,
      hotspotCount: proposed.hotspots.length,
      devices: [...proposedDevices].sort((a, b) => a.startU - b.startU),
    },
    moves,
    improvementK: Math.round((current.maxInletC - proposed.maxInletC) * 100) / 100,
    evaluations,
  }
}

/** Lower is better: the hottest inlet, plus a penalty for every degree over the threshold. */
function objective(result: ThermalResult, thresholdC: number): number {
  let over = 0
  for (const unit of result.units) if (unit.deviceId !== null) over += Math.max(0, unit.inletC - thresholdC)
  return result.maxInletC + 0.25 * over
}

function summary(result: ThermalResult) {
  return {
    maxInletC: result.maxInletC,
    hotspotCount: result.hotspots.length,
    totalHeatLoadW: result.totalHeatLoadW,
  }
}

function stack(
  devices: readonly PlacedDevice[],
  order: readonly number[],
  offset: number,
  heightU: number,
): RackLayout {
  let u = 1 + offset
  const placed = order.map((index) => {
    const d = devices[index]!
    const moved = { ...d, startU: u }
    u += d.heightU
    return moved
  })
  return { heightU, devices: placed }
}

/** Size of the search space, capped: once every candidate is scored there is nothing left to try. */
function factorialBound(n: number, freeU: number): number {
  let f = 1
  for (let i = 2; i <= n && f < 1e9; i++) f *= i
  return f * (freeU + 1)
}

function seedOf(layout: RackLayout): number {
  let h = 2166136261 ^ layout.heightU
  for (const d of layout.devices) {
    for (const n of [d.id, d.startU, d.heightU, d.powerWatts]) {
      h ^= n
      h = Math.imul(h, 16777619)
    }
  }
  return h >>> 0
}

/** Small seeded PRNG: reproducible across pods and runs. */
function mulberry32(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
