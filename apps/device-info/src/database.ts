import { openSqlite, type SqliteDb } from '@strata-cache/app-kit'

/** The SQLite handle every repository shares. */
export type Db = SqliteDb

const SCHEMA = `
CREATE TABLE IF NOT EXISTS devices (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  name TEXT,
  key_hash TEXT NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS api_keys_device ON api_keys(device_id);
`

/** Opens the database file shared by every pod (a key is deleted with its device). */
export function openDatabase(path: string): Db {
  return openSqlite(path, (db) => db.exec(SCHEMA))
}
