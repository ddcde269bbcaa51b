import type { CacheStore, TierHealth, TierStats } from './cache-store.ts'

/** A store's stats rows; a store without `stats` is one available row, and one that throws is unavailable. */
export async function tierStats(store: CacheStore): Promise<TierStats[]> {
  try {
    return (await store.stats?.()) ?? [{ tier: store.name, available: true }]
  } catch (error) {
    return [{ tier: store.name, available: false, details: { error: String(error) } }]
  }
}

/** A store's health checks; a store without `health` is up, and one that throws is down. */
export async function tierHealth(store: CacheStore): Promise<TierHealth[]> {
  try {
    return (await store.health?.()) ?? [{ tier: store.name, status: 'up' }]
  } catch (error) {
    return [{ tier: store.name, status: 'down', message: String(error) }]
  }
}
