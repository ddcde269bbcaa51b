import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openSqlite, type SqliteDb } from '../src/index.ts'

const opened: SqliteDb[] = []
const dirs: string[] = []

afterEach(() => {
  for (const db of opened.splice(0)) db.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'app-kit-sqlite-'))
  dirs.push(dir)
  return join(dir, 'nested', 'app.db')
}

describe('openSqlite', () => {
  it('creates the folder, opens in WAL mode and runs the setup', () => {
    const db = openSqlite(tempPath(), (d) => d.exec('CREATE TABLE t (x)'))
    opened.push(db)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000)
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1)
    expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 0 })
  })

  it('rolls the setup back when it fails, so the next pod to start runs it again', () => {
    const path = tempPath()
    expect(() =>
      openSqlite(path, (d) => {
        d.exec('CREATE TABLE t (x)')
        throw new Error('seed failed')
      }),
    ).toThrow('seed failed')
    const db = openSqlite(path, () => {})
    opened.push(db)
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 't'").get()).toBeUndefined()
  })
})
