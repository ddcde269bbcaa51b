import type { CacheStatus, CacheStatusTracker } from '@strata-cache/app-kit'
import { type Cache, defineKey, hashParams } from '@strata-cache/core'
import type { Device, DeviceInfo, DeviceRepository } from './device-repository.ts'

/** `device:info:{deviceId}:{hash}`; the hash leaves room for variants of the lookup. */
export const deviceInfoKey = defineKey('device:info:{deviceId}:{hash}')

/**
 * Devices and their keys. Info lookups go through a memoised function (`cache.wrap`); a key
 * created or revoked is written to the database, then the device's info is dropped on every pod
 * before the call returns.
 */
export class DeviceService {
  private readonly resolveInfo: (deviceId: number) => Promise<DeviceInfo>

  constructor(
    private readonly devices: DeviceRepository,
    private readonly cache: Cache,
    private readonly tracker: CacheStatusTracker,
    ttlMs: number,
  ) {
    this.resolveInfo = cache.wrap((deviceId: number) => this.devices.info(deviceId), {
      key: (deviceId) => DeviceService.keyOf(deviceId),
      ttl: ttlMs,
    })
  }

  static keyOf(deviceId: number): string {
    return deviceInfoKey({ deviceId, hash: hashParams({ deviceId, view: 'info' }) })
  }

  create(name: string): Device {
    return this.devices.create(name)
  }

  /** The device as stored; 404 when it does not exist. */
  device(deviceId: number): Device {
    return this.devices.get(deviceId)
  }

  /** The device and its keys, through the cache. */
  info(deviceId: number): Promise<{ value: DeviceInfo; status: CacheStatus }> {
    return this.tracker.observe(DeviceService.keyOf(deviceId), () => this.resolveInfo(deviceId))
  }

  /** Creates a key (the returned `key` is the only time the secret is seen) and drops the device's info. */
  async createKey(
    deviceId: number,
    name: string | undefined,
  ): Promise<{ id: number; key: string; deviceId: number }> {
    const created = this.devices.createKey(deviceId, name)
    await this.invalidateDevice(deviceId)
    return created
  }

  /** Revokes a key and drops its device's info; 404 when the key does not exist. */
  async revokeKey(keyId: number): Promise<void> {
    const { deviceId } = this.devices.revokeKey(keyId)
    await this.invalidateDevice(deviceId)
  }

  /** Drops the device's info on every pod. */
  private invalidateDevice(deviceId: number): Promise<number> {
    return this.cache.invalidate(deviceInfoKey.pattern({ deviceId }))
  }
}
