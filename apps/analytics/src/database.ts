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
CREATE INDEX IF NOT EXISTS events_metric_user_time ON events(metric, user, time_ms);
CREATE INDEX IF NOT EXISTS events_metric_agent_time ON events(metric, agent, time_ms);
CREATE INDEX IF NOT EXISTS events_metric_workspace_time ON events(metric, workspace, time_ms);
`

/**
 * Opens the database file shared by every pod. An aggregate reads one metric over a time range,
 * optionally for one user, agent or workspace: each of those shapes has its index, so a query
 * reads the matching rows only, never the table.
 */
export function openDatabase(path: string): Db {
  return openSqlite(path, (db) => db.exec(SCHEMA))
}
