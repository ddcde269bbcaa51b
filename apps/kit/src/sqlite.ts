import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'

/** The SQLite handle an app's repositories share. */
export type SqliteDb = Database.Database

/**
 * Opens (or creates) the database file shared by every pod on the host. WAL lets readers in all
 * pods proceed while one writes; busy_timeout makes a writer wait for another pod's write instead
 * of failing with SQLITE_BUSY. `setup` creates the schema (and seeds it) in one IMMEDIATE transaction.
 */
export function openSqlite(path: string, setup: (db: SqliteDb) => void): SqliteDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('busy_timeout = 5000')
  db.pragma('journal_mode = WAL')
  // better-sqlite3's default too; said here so that ON DELETE CASCADE does not depend on the build.
  db.pragma('foreign_keys = ON')
  // IMMEDIATE: when several pods start at once, one creates (and seeds), the others wait and see it done.
  db.transaction(() => setup(db)).immediate()
  return db
}
