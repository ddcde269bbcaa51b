import type { TierHealth, TierStats } from '@strata-cache/core'
import type { CommandRunner } from './command-runner.ts'
import type { ConnectionPool } from './pool.ts'
import type { StoreEvents } from './store-events.ts'

/** Reads Redis answered, by outcome (a failed read is an error, not a miss). */
export interface ReadCounts {
  hits: number
  misses: number
  /** Entries in another format than the store's serializer (another pod's, mid-deploy), read as misses. */
  formatMisses: number
}

/** What the store knows of itself for stats and health. */
export interface InfoSubject {
  readonly name: string
  readonly runner: CommandRunner
  readonly pool: ConnectionPool
  readonly events: StoreEvents
  readonly reads: ReadCounts
  isClosed(): boolean
}

/** Availability, breaker, failure counts, PING latency and INFO figures (summed over masters on a cluster). */
export async function redisStats(store: InfoSubject): Promise<TierStats[]> {
  const { runner, pool } = store
  const client = store.isClosed() ? undefined : await runner.readyClient()
  const details: Record<string, unknown> = {
    breaker: runner.breaker.state,
    failureCount: runner.breaker.failures,
    consecutiveFailures: runner.breaker.consecutive,
    connections: pool.clients.length,
    readyConnections: pool.readyCount(),
  }
  let available = !store.isClosed() && runner.available()
  if (available && client !== undefined) {
    try {
      const started = performance.now()
      await runner.deadline(client.ping(), 'stats')
      details.pingLatencyMs = round(performance.now() - started)
      const infos = await runner.deadline(
        Promise.all(pool.masters(client).map((node) => node.info())),
        'stats',
      )
      Object.assign(details, summarizeInfo(infos))
    } catch (error) {
      available = false
      details.error = String(error)
    }
  }
  const { hits, misses, formatMisses } = store.reads
  details.formatMisses = formatMisses
  return [{ tier: store.name, available, hits, misses, errors: store.events.errorCount, details }]
}

/** `up` when Redis answers PING within the deadline and the breaker is closed; `down` otherwise. */
export async function redisHealth(store: InfoSubject): Promise<TierHealth[]> {
  const { runner, name: tier } = store
  const client = store.isClosed() ? undefined : await runner.readyClient()
  const details = { breaker: runner.breaker.state, readyConnections: store.pool.readyCount() }
  if (store.isClosed()) return [{ tier, status: 'down', message: 'store closed', details }]
  if (runner.breaker.state !== 'closed') {
    return [{ tier, status: 'down', message: `circuit ${runner.breaker.state}`, details }]
  }
  if (client === undefined) return [{ tier, status: 'down', message: 'no connection is ready', details }]
  const started = performance.now()
  try {
    await runner.deadline(client.ping(), 'health')
    return [{ tier, status: 'up', latencyMs: round(performance.now() - started), details }]
  } catch (error) {
    const message = String(error instanceof Error ? error.message : error)
    return [{ tier, status: 'down', latencyMs: round(performance.now() - started), message, details }]
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000
}

function infoField(info: string, name: string): string | undefined {
  const match = new RegExp(`^${name}:(.*)$`, 'm').exec(info)
  return match?.[1]?.trim()
}

/** Redis's own human format (1.50M), for figures summed over cluster masters. */
function humanBytes(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes}B` : `${value.toFixed(2)}${units[unit]}`
}

/** The INFO figures stats report, summed over `infos` (one per master). */
function summarizeInfo(infos: readonly string[]): Record<string, unknown> {
  let keyspaceHits = 0
  let keyspaceMisses = 0
  let usedMemoryBytes = 0
  let connectedClients = 0
  for (const info of infos) {
    keyspaceHits += Number(infoField(info, 'keyspace_hits') ?? 0)
    keyspaceMisses += Number(infoField(info, 'keyspace_misses') ?? 0)
    usedMemoryBytes += Number(infoField(info, 'used_memory') ?? 0)
    connectedClients += Number(infoField(info, 'connected_clients') ?? 0)
  }
  const usedMemoryHuman =
    infos.length === 1
      ? (infoField(infos[0]!, 'used_memory_human') ?? humanBytes(usedMemoryBytes))
      : humanBytes(usedMemoryBytes)
  return { keyspaceHits, keyspaceMisses, usedMemoryBytes, usedMemoryHuman, connectedClients }
}
