import { createHash, randomBytes } from 'node:crypto'
import { HttpError, notFound } from '@strata-cache/app-kit'
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
  /** The device's keys by id, at most `maxKeys` of them (more exist only from before the cap). */
  apiKeys: ApiKeySummary[]
  activeKeyCount: number
  resolvedAt: string
}

/**
 * Devices and their API keys in SQLite. Keys are stored hashed; the plain key is shown once, at
 * creation. A device holds at most `maxKeys` keys, so what its info lists (and caches) is bounded.
 */
export class DeviceRepository {
  constructor(
    private readonly db: Db,
    private readonly maxKeys: number,
  ) {}

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

  /** The device and its first `maxKeys` keys by id, read in one transaction so both come from the same moment. */
  info(id: number): DeviceInfo {
    return this.db.transaction(() => {
      const device = this.get(id)
      const rows = this.db
        .prepare(
          'SELECT id, name, key_prefix, created_at FROM api_keys WHERE device_id = ? ORDER BY id LIMIT ?',
        )
        .all(id, this.maxKeys) as {
        id: number
        name: string | null
        key_prefix: string
        created_at: string
      }[]
      const apiKeys = rows.map((r) => ({
        id: r.id,
        name: r.name,
        prefix: r.key_prefix,
        createdAt: r.created_at,
      }))
      return {
        device,
        apiKeys,
        activeKeyCount: this.keyCount(id),
        resolvedAt: new Date().toISOString(),
      }
    })()
  }

  /**
   * Creates a key; the returned `key` is the only time the secret is seen. A device that already
   * holds `maxKeys` keys gets none: 409 `E_KEY_LIMIT` (counted in the same IMMEDIATE transaction as
   * the insert, so pods creating keys at once cannot pass the cap together).
   */
  createKey(deviceId: number, name: string | undefined): { id: number; key: string; deviceId: number } {
    return this.db
      .transaction(() => {
        this.get(deviceId)
        if (this.keyCount(deviceId) >= this.maxKeys) {
          throw new HttpError(
            409,
            'E_KEY_LIMIT',
            `device ${deviceId} already has ${this.maxKeys} API keys, the most it may have (MAX_KEYS_PER_DEVICE): revoke one first`,
          )
        }
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

  private keyCount(deviceId: number): number {
    const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM api_keys WHERE device_id = ?').get(deviceId) as {
      n: number
    }
    return n
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
