import { type BaseConfig, envDuration, envInteger, loadBaseConfig } from '@strata-cache/app-kit'

/** Everything the service reads from its environment, checked once at start. */
export interface Config extends BaseConfig {
  /** How long a device's resolved info stays cached. */
  deviceInfoTtlMs: number
  /** How long past its TTL the info may be served if the database is slow or failing. */
  graceMs: number
  /** API keys one device may have; creating one more is a 409 `E_KEY_LIMIT`. */
  maxKeysPerDevice: number
}

/** Reads and validates the configuration; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    ...loadBaseConfig(env, { port: 3002, databasePath: './data/device-info.db' }),
    deviceInfoTtlMs: envDuration(env, 'DEVICE_INFO_TTL', '5m'),
    graceMs: envDuration(env, 'CACHE_GRACE', '1m'),
    maxKeysPerDevice: envInteger(env, 'MAX_KEYS_PER_DEVICE', 100, 1, 10_000),
  }
}
