import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'

/** The SQLite handle every repository shares. */
export type Db = Database.Database

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  workspace TEXT NOT NULL,
  user TEXT NOT NULL,
  agent TEXT NOT NULL,
  metric TEXT NOT NULL,
  value REAL NOT NULL,
  time_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_metric_time ON events(metric, time_ms);
`

/**
 * Opens (or creates) the database file shared by every pod on the host, in WAL mode so readers in
 * every pod proceed while one writes; busy_timeout makes a writer wait for another pod's write.
 */
export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('busy_timeout = 5000')
  db.pragma('journal_mode = WAL')
  db.transaction(() => db.exec(SCHEMA)).immediate()
  return db
}
