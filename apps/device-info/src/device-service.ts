import type { CacheStatus, CacheStatusTracker } from '@strata-cache/app-kit'
import { type Cache, defineKey, hashParams } from '@strata-cache/core'
import type { DeviceInfo, DeviceRepository } from './device-repository.ts'

/** `device:info:{deviceId}:{hash}`; the hash leaves room for variants of the lookup. */
export const deviceInfoKey = defineKey('device:info:{deviceId}:{hash}')

/** Device info lookups through a memoised function (`cache.wrap`), invalidated on key changes. */
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

  info(deviceId: number): Promise<{ value: DeviceInfo; status: CacheStatus }> {
    return this.tracker.observe(DeviceService.keyOf(deviceId), () => this.resolveInfo(deviceId))
  }

  /** Drops the device's info on every pod. */
  invalidateDevice(deviceId: number): Promise<number> {
    return this.cache.invalidate(deviceInfoKey.pattern({ deviceId }))
  }
}
