import { conflict, notFound } from '@strata-cache/app-kit'
import type { Db } from './database.ts'
import { layoutProblem, type RackLayout } from './thermal-model.ts'

export interface Position {
  id: number
  rackId: number
  name: string
  startU: number
  heightU: number
  powerWatts: number
}

export interface Rack {
  id: number
  name: string
  heightU: number
  createdAt: string
  updatedAt: string
  positions: Position[]
}

export interface RackInput {
  name: string
  heightU: number
}

export interface PositionInput {
  name: string
  startU: number
  heightU: number
  powerWatts: number
}

export interface SpecMatch {
  id: number
  vendor: string
  model: string
  category: string
  heightU: number
  powerWatts: number
  airflow: string
}

interface RackRow {
  id: number
  name: string
  height_u: number
  created_at: string
  updated_at: string
}

interface PositionRow {
  id: number
  rack_id: number
  name: string
  start_u: number
  height_u: number
  power_watts: number
}

/** Racks and their positions in SQLite; every write runs in a transaction so pods never see half of it. */
export class RackRepository {
  constructor(private readonly db: Db) {}

  create(input: RackInput): Rack {
    const now = new Date().toISOString()
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO racks (name, height_u, created_at, updated_at) VALUES (?, ?, ?, ?)')
      .run(input.name, input.heightU, now, now)
    return this.get(Number(lastInsertRowid))
  }

  /** The rack with its positions; 404 when it does not exist. */
  get(id: number): Rack {
    const row = this.db.prepare('SELECT * FROM racks WHERE id = ?').get(id) as RackRow | undefined
    if (row === undefined) throw notFound(`rack ${id} does not exist`)
    const positions = this.db
      .prepare('SELECT * FROM positions WHERE rack_id = ? ORDER BY start_u')
      .all(id) as PositionRow[]
    return {
      id: row.id,
      name: row.name,
      heightU: row.height_u,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      positions: positions.map(toPosition),
    }
  }

  list(): Omit<Rack, 'positions'>[] {
    const rows = this.db.prepare('SELECT * FROM racks ORDER BY id').all() as RackRow[]
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      heightU: r.height_u,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }))
  }

  /** Renames or resizes; a rack cannot shrink below a position it holds (409). */
  update(id: number, input: RackInput): Rack {
    return this.db
      .transaction(() => {
        const rack = this.get(id)
        const problem = layoutProblem({ heightU: input.heightU, devices: toDevices(rack.positions) })
        if (problem !== undefined) throw conflict(`cannot resize rack ${id} to ${input.heightU}U: ${problem}`)
        this.db
          .prepare('UPDATE racks SET name = ?, height_u = ?, updated_at = ? WHERE id = ?')
          .run(input.name, input.heightU, new Date().toISOString(), id)
        return this.get(id)
      })
      .immediate()
  }

  delete(id: number): void {
    const { changes } = this.db.prepare('DELETE FROM racks WHERE id = ?').run(id)
    if (changes === 0) throw notFound(`rack ${id} does not exist`)
  }

  /** Adds a position; 409 when it does not fit or overlaps another (checked inside the write transaction). */
  addPosition(rackId: number, input: PositionInput): Position {
    return this.db
      .transaction(() => {
        const rack = this.get(rackId)
        const candidate = { id: 0, ...input }
        const problem = layoutProblem({
          heightU: rack.heightU,
          devices: [...toDevices(rack.positions), candidate],
        })
        if (problem !== undefined) throw conflict(problem)
        const { lastInsertRowid } = this.db
          .prepare(
            'INSERT INTO positions (rack_id, name, start_u, height_u, power_watts) VALUES (?, ?, ?, ?, ?)',
          )
          .run(rackId, input.name, input.startU, input.heightU, input.powerWatts)
        this.touch(rackId)
        return { id: Number(lastInsertRowid), rackId, ...input }
      })
      .immediate()
  }

  deletePosition(rackId: number, positionId: number): void {
    this.db
      .transaction(() => {
        const { changes } = this.db
          .prepare('DELETE FROM positions WHERE id = ? AND rack_id = ?')
          .run(positionId, rackId)
        if (changes === 0) throw notFound(`position ${positionId} does not exist in rack ${rackId}`)
        this.touch(rackId)
      })
      .immediate()
  }

  /** The rack's layout for the thermal model. */
  layout(id: number): { rack: Rack; layout: RackLayout } {
    const rack = this.get(id)
    return { rack, layout: { heightU: rack.heightU, devices: toDevices(rack.positions) } }
  }

  /** Catalogue entries whose vendor, model or category contain every word of the query. */
  searchSpecs(words: readonly string[], limit: number): SpecMatch[] {
    const where = words
      .map(() => "(vendor || ' ' || model || ' ' || category) LIKE ? ESCAPE '\\'")
      .join(' AND ')
    const rows = this.db
      .prepare(
        `SELECT id, vendor, model, category, height_u, power_watts, airflow FROM device_specs
         ${where === '' ? '' : `WHERE ${where}`} ORDER BY vendor, model LIMIT ?`,
      )
      .all(...words.map((w) => `%${w.replace(/[\\%_]/g, '\\$&')}%`), limit) as {
      id: number
      vendor: string
      model: string
      category: string
      height_u: number
      power_watts: number
      airflow: string
    }[]
    return rows.map((r) => ({
      id: r.id,
      vendor: r.vendor,
      model: r.model,
      category: r.category,
      heightU: r.height_u,
      powerWatts: r.power_watts,
      airflow: r.airflow,
    }))
  }

  private touch(rackId: number): void {
    this.db.prepare('UPDATE racks SET updated_at = ? WHERE id = ?').run(new Date().toISOString(), rackId)
  }
}

function toPosition(row: PositionRow): Position {
  return {
    id: row.id,
    rackId: row.rack_id,
    name: row.name,
    startU: row.start_u,
    heightU: row.height_u,
    powerWatts: row.power_watts,
  }
}

function toDevices(positions: readonly Position[]) {
  return positions.map((p) => ({
    id: p.id,
    name: p.name,
    startU: p.startU,
    heightU: p.heightU,
    powerWatts: p.powerWatts,
  }))
}
