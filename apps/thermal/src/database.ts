import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { DEVICE_SPECS } from './device-specs.ts'

/** The SQLite handle every repository shares. */
export type Db = Database.Database

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

/**
 * Opens (or creates) the database file shared by every pod on the host. WAL lets readers in all
 * pods proceed while one writes; busy_timeout makes a writer wait for another pod's write instead
 * of failing with SQLITE_BUSY.
 */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('busy_timeout = 5000')
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  // IMMEDIATE: when several pods start at once, one creates and seeds, the others wait and see it done.
  db.transaction(() => {
    db.exec(SCHEMA)
    const { n } = db.prepare('SELECT COUNT(*) AS n FROM device_specs').get() as { n: number }
    if (n === 0) {
      const insert = db.prepare(
        'INSERT INTO device_specs (vendor, model, category, height_u, power_watts, airflow) VALUES (?, ?, ?, ?, ?, ?)',
      )
      for (const s of DEVICE_SPECS)
        insert.run(s.vendor, s.model, s.category, s.heightU, s.powerWatts, s.airflow)
    }
  }).immediate()
  return db
}
