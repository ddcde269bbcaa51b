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
  enableWal(db)
  // better-sqlite3's default too; said here so that ON DELETE CASCADE does not depend on the build.
  db.pragma('foreign_keys = ON')
  // IMMEDIATE: when several pods start at once, one creates (and seeds), the others wait and see it done.
  db.transaction(() => setup(db)).immediate()
  return db
}

/** How long pods starting together retry the switch to WAL, ms (the busy_timeout's length). */
const WAL_RETRY_MS = 5000

/**
 * `journal_mode = WAL`, retried while it fails with SQLITE_BUSY. Pods opening a new file at the same
 * moment each hold a shared lock and want an exclusive one: SQLite breaks that deadlock by failing
 * one of them at once, without the busy handler ("database is locked" at start, seen in CI).
 */
function enableWal(db: SqliteDb): void {
  const deadline = Date.now() + WAL_RETRY_MS
  for (;;) {
    try {
      db.pragma('journal_mode = WAL')
      return
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error
      // Synchronous, like the rest of the start-up: a short pause before the next try.
      Atomics.wait(PAUSE, 0, 0, 10 + Math.random() * 20)
    }
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4))
