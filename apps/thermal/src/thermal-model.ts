/**
 * A steady-state airflow and heat model of one rack, seen from the side: rows are slices of rack
 * units (bottom to top), columns run from the cold aisle (front) to the hot aisle (back).
 *
 * Each device pulls air front to back with a flow that follows its power (fans ramp up), and heats
 * it in its middle columns. Rack units with no device (no blanking panel) let hot exhaust flow
 * back to the front, which is what heats the inlets of their neighbours. The cold aisle mixes
 * vertically and is fed by supply air that warms with height. The energy balance per cell is
 * solved by successive over-relaxation (upwind advection + diffusion) until it converges.
 */

/** One device occupying `heightU` units from `startU` (1 = bottom). */
export interface PlacedDevice {
  id: number
  name: string
  startU: number
  heightU: number
  powerWatts: number
}

export interface RackLayout {
  heightU: number
  devices: readonly PlacedDevice[]
}

export interface ModelOptions {
  /** Supply air temperature at the floor, °C. */
  supplyC: number
  /** Inlet temperature over which a unit is a hotspot, °C (ASHRAE A1 recommends at most 27). */
  thresholdC: number
  /** Grid rows per rack unit. */
  rowsPerU: number
  /** Grid columns front to back. */
  columns: number
  /** Largest temperature change of one sweep below which the field has converged, K. */
  toleranceK: number
  /** Bound on sweeps, so a pathological layout cannot run forever. */
  maxSweeps: number
}

/** Full resolution: what the thermal-analysis endpoint runs (hundreds of ms for a 42U rack). */
export const FINE_MODEL: ModelOptions = {
  supplyC: 18,
  thresholdC: 27,
  rowsPerU: 8,
  columns: 32,
  toleranceK: 1e-5,
  maxSweeps: 20_000,
}

/** Coarse resolution: what the optimizer evaluates candidates with. */
export const COARSE_MODEL: ModelOptions = { ...FINE_MODEL, rowsPerU: 2, columns: 12, toleranceK: 1e-4 }

export interface UnitReading {
  /** Rack unit, 1 = bottom. */
  u: number
  inletC: number
  exhaustC: number
  /** Device occupying this unit, if any. */
  deviceId: number | null
}

export interface ThermalResult {
  units: UnitReading[]
  /** Units whose inlet is above the threshold, hottest first. */
  hotspots: { u: number; inletC: number; deviceId: number | null; deviceName: string | null }[]
  maxInletC: number
  /** Sum of device power: everything a device draws ends up as heat. */
  totalHeatLoadW: number
  totalHeatLoadBtuPerHour: number
  sweeps: number
  converged: boolean
}

// Physical constants of the model, in "W per K" per cell face so temperatures come out in K.
const DESIGN_RISE_K = 12 // a server fan curve aims at roughly this rise front to back
const MIN_FLOW = 1.5 // idle fans still move air
const RECIRCULATION = 0.5 // share of the neighbours' flow that leaks back through an open unit
const CONDUCTANCE = 0.4 // mixing between neighbouring cells inside the rack
const AISLE_MIXING = 6 // vertical mixing in the cold aisle column
const PLENUM_RISE = 2 // buoyant upward flow in the rear plenum
const SUPPLY_EXCHANGE = 1 // how strongly the cold aisle is held at supply temperature
const STRATIFICATION_K = 3 // supply air warms this much from floor to top
const SOR = 1.0

/** Validates a layout: devices inside the rack and not overlapping. Returns a message, or undefined. */
export function layoutProblem(layout: RackLayout): string | undefined {
  const taken = new Map<number, string>()
  for (const d of layout.devices) {
    if (d.startU < 1 || d.startU + d.heightU - 1 > layout.heightU) {
      return `position "${d.name}" (U${d.startU}-U${d.startU + d.heightU - 1}) does not fit in a ${layout.heightU}U rack`
    }
    for (let u = d.startU; u < d.startU + d.heightU; u++) {
      const other = taken.get(u)
      if (other !== undefined) return `position "${d.name}" overlaps "${other}" at U${u}`
      taken.set(u, d.name)
    }
  }
  return undefined
}

/**
 * The solver as a generator: it yields every `sweepsPerYield` sweeps so an async caller can let
 * the event loop breathe (health checks, other requests) during a long solve.
 */
export function* solveThermal(
  layout: RackLayout,
  options: ModelOptions = FINE_MODEL,
  sweepsPerYield = 200,
): Generator<void, ThermalResult> {
  const R = options.rowsPerU
  const C = options.columns
  const rows = layout.heightU * R
  const heatFrom = Math.floor(C * 0.35)
  const heatTo = Math.floor(C * 0.65)

  // Per row: owning device, forward flow (negative = recirculation), heat per heated cell.
  const owner = new Int32Array(rows).fill(-1)
  const flow = new Float64Array(rows)
  const heat = new Float64Array(rows)
  layout.devices.forEach((d, index) => {
    const perRowW = d.powerWatts / (d.heightU * R)
    const rowFlow = Math.max(perRowW / DESIGN_RISE_K, MIN_FLOW / R)
    for (let r = (d.startU - 1) * R; r < (d.startU - 1 + d.heightU) * R; r++) {
      owner[r] = index
      flow[r] = rowFlow
      heat[r] = perRowW / (heatTo - heatFrom)
    }
  })
  // Open units: hot air leaks back, driven by the flow of the devices within 3U.
  for (let r = 0; r < rows; r++) {
    if (owner[r] !== -1) continue
    let sum = 0
    let n = 0
    for (let k = Math.max(0, r - 3 * R); k < Math.min(rows, r + 3 * R + 1); k++) {
      if (owner[k] !== -1) {
        sum += flow[k]!
        n++
      }
    }
    flow[r] = n === 0 ? 0 : -RECIRCULATION * (sum / n)
  }

  // Device rows draw part of their air from what open units within 3U leak into the cold aisle:
  // per device row, the leaking rows and their weights (flow, fading with distance).
  const leakRows: Int32Array[] = []
  const leakWeights: Float64Array[] = []
  const leakShare = new Float64Array(rows)
  for (let r = 0; r < rows; r++) {
    const from: number[] = []
    const weights: number[] = []
    if (owner[r] !== -1) {
      for (let k = Math.max(0, r - 3 * R); k < Math.min(rows, r + 3 * R + 1); k++) {
        if (owner[k] !== -1 || flow[k]! >= 0) continue
        from.push(k)
        weights.push(-flow[k]! / (1 + Math.abs(k - r) / R))
      }
      const leak = weights.reduce((a, w) => a + w, 0)
      leakShare[r] = leak / (leak + flow[r]! + SUPPLY_EXCHANGE)
    }
    leakRows.push(Int32Array.from(from))
    leakWeights.push(Float64Array.from(weights))
  }

  const supply = new Float64Array(rows)
  for (let r = 0; r < rows; r++) supply[r] = options.supplyC + (STRATIFICATION_K * (r + 0.5)) / rows
  const T = new Float64Array(rows * C).fill(options.supplyC)
  let hotAisle = options.supplyC + DESIGN_RISE_K
  let sweeps = 0
  let converged = false

  while (sweeps < options.maxSweeps) {
    let maxChange = 0
    let exhaustSum = 0
    let exhaustFlow = 0
    for (let r = 0; r < rows; r++) {
      const u = flow[r]!
      const base = r * C
      let intake = supply[r]!
      if (leakShare[r]! > 0) {
        const from = leakRows[r]!
        const weights = leakWeights[r]!
        let sum = 0
        let total = 0
        for (let k = 0; k < from.length; k++) {
          sum += weights[k]! * T[from[k]! * C]!
          total += weights[k]!
        }
        intake = (1 - leakShare[r]!) * intake + leakShare[r]! * (sum / total)
      }
      for (let c = 0; c < C; c++) {
        const i = base + c
        let aP = 0
        let b = 0
        const vertical = c === 0 ? AISLE_MIXING : CONDUCTANCE
        if (r > 0) {
          const below = c === C - 1 ? vertical + PLENUM_RISE : vertical
          aP += below
          b += below * T[i - C]!
        }
        if (r < rows - 1) {
          aP += vertical
          b += vertical * T[i + C]!
        }
        if (c > 0) {
          aP += CONDUCTANCE
          b += CONDUCTANCE * T[i - 1]!
        }
        if (c < C - 1) {
          aP += CONDUCTANCE
          b += CONDUCTANCE * T[i + 1]!
        }
        // Upwind advection along the row.
        if (u > 0) {
          aP += u
          b += u * (c === 0 ? intake : T[i - 1]!)
        } else if (u < 0) {
          aP -= u
          b -= u * (c === C - 1 ? hotAisle : T[i + 1]!)
        }
        if (c === 0) {
          aP += SUPPLY_EXCHANGE
          b += SUPPLY_EXCHANGE * supply[r]!
        }
        if (c >= heatFrom && c < heatTo) b += heat[r]!
        const next = T[i]! + SOR * (b / aP - T[i]!)
        const change = Math.abs(next - T[i]!)
        if (change > maxChange) maxChange = change
        T[i] = next
      }
      if (u > 0) {
        exhaustSum += u * T[base + C - 1]!
        exhaustFlow += u
      }
    }
    if (exhaustFlow > 0) hotAisle = exhaustSum / exhaustFlow
    sweeps++
    if (!Number.isFinite(maxChange)) break // diverged: report not converged rather than NaN readings
    if (maxChange < options.toleranceK) {
      converged = true
      break
    }
    if (sweeps % sweepsPerYield === 0) yield
  }

  const units: UnitReading[] = []
  for (let u = 0; u < layout.heightU; u++) {
    let inlet = 0
    let exhaust = 0
    for (let r = u * R; r < (u + 1) * R; r++) {
      inlet += T[r * C + 1]!
      exhaust += T[r * C + C - 2]!
    }
    const index = owner[u * R]!
    units.push({
      u: u + 1,
      inletC: round2(inlet / R),
      exhaustC: round2(exhaust / R),
      deviceId: index === -1 ? null : layout.devices[index]!.id,
    })
  }
  const hotspots = units
    .filter((unit) => unit.deviceId !== null && unit.inletC > options.thresholdC)
    .sort((a, b) => b.inletC - a.inletC)
    .map((unit) => ({
      u: unit.u,
      inletC: unit.inletC,
      deviceId: unit.deviceId,
      deviceName: layout.devices.find((d) => d.id === unit.deviceId)?.name ?? null,
    }))
  const occupied = units.filter((unit) => unit.deviceId !== null)
  const totalHeatLoadW = layout.devices.reduce((sum, d) => sum + d.powerWatts, 0)
  return {
    units,
    hotspots,
    maxInletC: occupied.length === 0 ? options.supplyC : Math.max(...occupied.map((unit) => unit.inletC)),
    totalHeatLoadW,
    totalHeatLoadBtuPerHour: Math.round(totalHeatLoadW * 3.412142),
    sweeps,
    converged,
  }
}

/** Runs a generator to completion without yielding to the event loop. */
export function runToEnd<R>(steps: Generator<void, R>): R {
  for (;;) {
    const next = steps.next()
    if (next.done) return next.value
  }
}

/** Runs a generator to completion, giving the event loop a turn at every yield. */
export async function runCooperatively<R>(steps: Generator<void, R>): Promise<R> {
  for (;;) {
    const next = steps.next()
    if (next.done) return next.value
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100
}
