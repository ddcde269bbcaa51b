import type { BreakerState, TierStats } from '@strata-cache/core'

/** Circuit breaker states as gauge values: alert on `== 2` (open). */
export const BreakerValue = {
  closed: 0,
  'half-open': 1,
  open: 2,
} as const satisfies Record<BreakerState, number>

/** Bus counters the tiered store reports on its 'bus' tier. */
export interface BusFigures {
  sent?: number
  received?: number
  dropped?: number
  /** Messages refused for a missing or wrong signature (a bus with a secret). */
  rejected?: number
  gaps?: number
  reconnects?: number
}

/** Removals the tiered store keeps for L2 (`details.repairs` of its L2 row). */
export interface RepairFigures {
  pending?: number
  queued?: number
  replayed?: number
  collapsed?: number
}

/** What one tier reports at scrape time, reduced to the figures we export. */
export interface TierFigures {
  tier: string
  available: boolean
  entries?: number
  bytes?: number
  evictions?: number
  /** Gauge value of the tier's breaker ({@link BreakerValue}), when it has one. */
  breaker?: number
  bus?: BusFigures
  repairs?: RepairFigures
}

const BUS_FIELDS = ['sent', 'received', 'dropped', 'rejected', 'gaps', 'reconnects'] as const
/** The outcomes `cache_l2_repairs_total` counts. */
export const REPAIR_OUTCOMES = ['queued', 'replayed', 'collapsed'] as const

/** Reduces `Cache.stats().tiers` to exportable figures, ignoring anything malformed. */
export function tierFigures(tiers: readonly TierStats[]): TierFigures[] {
  const out: TierFigures[] = []
  for (const t of tiers) {
    if (typeof t?.tier !== 'string') continue
    const figures: TierFigures = { tier: t.tier, available: t.available !== false }
    if (isCount(t.entries)) figures.entries = t.entries
    if (isCount(t.bytes)) figures.bytes = t.bytes
    if (isCount(t.evictions)) figures.evictions = t.evictions
    const breaker = breakerValue(t.details?.breaker)
    if (breaker !== undefined) figures.breaker = breaker
    if (t.tier === 'bus' && t.details !== undefined) {
      const bus: BusFigures = {}
      for (const field of BUS_FIELDS) {
        const v = t.details[field]
        if (isCount(v)) bus[field] = v
      }
      figures.bus = bus
    }
    const repairs = t.details?.repairs
    if (typeof repairs === 'object' && repairs !== null) {
      const r = repairs as Record<string, unknown>
      const picked: RepairFigures = {}
      for (const field of ['pending', ...REPAIR_OUTCOMES] as const)
        if (isCount(r[field])) picked[field] = r[field]
      figures.repairs = picked
    }
    out.push(figures)
  }
  return out
}

/** The gauge value of a breaker state given as 'open' or as `{ state: 'open', ... }`. */
export function breakerValue(breaker: unknown): number | undefined {
  const state =
    typeof breaker === 'string'
      ? breaker
      : typeof breaker === 'object' && breaker !== null
        ? (breaker as { state?: unknown }).state
        : undefined
  return typeof state === 'string' && Object.hasOwn(BreakerValue, state)
    ? BreakerValue[state as BreakerState]
    : undefined
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0
}
