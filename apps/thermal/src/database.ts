import { openSqlite, type SqliteDb } from '@strata-cache/app-kit'
import { DEVICE_SPECS } from './device-specs.ts'

/** The SQLite handle every repository shares. */
export type Db = SqliteDb

const SCHEMA = `
CREATE TABLE IF NOT EXISTS racks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  height_u INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rack_id INTEGER NOT NULL REFERENCES racks(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  start_u INTEGER NOT NULL,
  height_u INTEGER NOT NULL,
  power_watts REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS positions_rack ON positions(rack_id);
CREATE TABLE IF NOT EXISTS device_specs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  vendor TEXT NOT NULL,
  model TEXT NOT NULL,
  category TEXT NOT NULL,
  height_u INTEGER NOT NULL,
  power_watts REAL NOT NULL,
  airflow TEXT NOT NULL,
  UNIQUE (vendor, model)
);
`

/** Opens the database file shared by every pod; the first pod to start seeds the spec catalogue. */
export function openDatabase(path: string): Db {
  return openSqlite(path, (db) => {
    db.exec(SCHEMA)
    const { n } = db.prepare('SELECT COUNT(*) AS n FROM device_specs').get() as { n: number }
    if (n === 0) {
      const insert = db.prepare(
        'INSERT INTO device_specs (vendor, model, category, height_u, power_watts, airflow) VALUES (?, ?, ?, ?, ?, ?)',
      )
      for (const s of DEVICE_SPECS)
        insert.run(s.vendor, s.model, s.category, s.heightU, s.powerWatts, s.airflow)
    }
  })
}
