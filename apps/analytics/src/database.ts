import { openSqlite, type SqliteDb } from '@strata-cache/app-kit'

/** The SQLite handle every repository shares. */
export type Db = SqliteDb

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

/** Opens the database file shared by every pod. */
export function openDatabase(path: string): Db {
  return openSqlite(path, (db) => db.exec(SCHEMA))
}
