import { createHash, randomBytes } from 'node:crypto'
import { notFound } from '@strata-cache/app-kit'
import type { Db } from './database.ts'

export interface Device {
  id: number
  name: string
  createdAt: string
}

/** A key as listed: never the secret itself, only a prefix to recognise it by. */
export interface ApiKeySummary {
  id: number
  name: string | null
  prefix: string
  createdAt: string
}

/** What `GET /api/devices/:deviceId/info` resolves. */
export interface DeviceInfo {
  device: Device
  apiKeys: ApiKeySummary[]
  activeKeyCount: number
  resolvedAt: string
}

/** Devices and their API keys in SQLite. Keys are stored hashed; the plain key is shown once, at creation. */
export class DeviceRepository {
  constructor(private readonly db: Db) {}

  create(name: string): Device {
    const createdAt = new Date().toISOString()
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO devices (name, created_at) VALUES (?, ?)')
      .run(name, createdAt)
    return { id: Number(lastInsertRowid), name, createdAt }
  }

  get(id: number): Device {
    const row = this.db.prepare('SELECT id, name, created_at FROM devices WHERE id = ?').get(id) as
      | { id: number; name: string; created_at: string }
      | undefined
    if (row === undefined) throw notFound(`device ${id} does not exist`)
    return { id: row.id, name: row.name, createdAt: row.created_at }
  }

  /** The device and its keys, read in one transaction so both come from the same moment. */
  info(id: number): DeviceInfo {
    return this.db.transaction(() => {
      const device = this.get(id)
      const rows = this.db
        .prepare('SELECT id, name, key_prefix, created_at FROM api_keys WHERE device_id = ? ORDER BY id')
        .all(id) as { id: number; name: string | null; key_prefix: string; created_at: string }[]
      const apiKeys = rows.map((r) => ({
        id: r.id,
        name: r.name,
        prefix: r.key_prefix,
        createdAt: r.created_at,
      }))
      return { device, apiKeys, activeKeyCount: apiKeys.length, resolvedAt: new Date().toISOString() }
    })()
  }

  /** Creates a key; the returned `key` is the only time the secret is seen. */
  createKey(deviceId: number, name: string | undefined): { id: number; key: string; deviceId: number } {
    return this.db
      .transaction(() => {
        this.get(deviceId)
        const key = `dk_${randomBytes(24).toString('base64url')}`
        const { lastInsertRowid } = this.db
          .prepare(
            'INSERT INTO api_keys (device_id, name, key_hash, key_prefix, created_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(deviceId, name ?? null, hashKey(key), key.slice(0, 10), new Date().toISOString())
        return { id: Number(lastInsertRowid), key, deviceId }
      })
      .immediate()
  }

  /** Revokes (deletes) a key; returns the device it belonged to, so its info can be invalidated. */
  revokeKey(keyId: number): { deviceId: number } {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT device_id FROM api_keys WHERE id = ?').get(keyId) as
          | { device_id: number }
          | undefined
        if (row === undefined) throw notFound(`api key ${keyId} does not exist`)
        this.db.prepare('DELETE FROM api_keys WHERE id = ?').run(keyId)
        return { deviceId: row.device_id }
      })
      .immediate()
  }
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex')
}
