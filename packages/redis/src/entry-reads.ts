import { type AnySerializer, type CacheEntry, CacheError, CacheErrorCode } from '@strata-cache/core'
import { type CommandRunner, isDataReply } from './command-runner.ts'
import { decodeStored, OTHER_FORMAT } from './entry-codec.ts'
import type { KeyCommands } from './key-commands.ts'
import type { ReadCounts } from './redis-info.ts'
import type { StoreEvents } from './store-events.ts'

// getMany chunks: each chunk is one round trip under its own deadline.
const BATCH_SIZE = 500

/** What the reads need of their store. */
export interface EntryReadsContext {
  name: string
  prefix: string
  serializer: AnySerializer
  now: () => number
  runner: CommandRunner
  /** Reads many keys: one MGET, or one per slot on a Cluster. */
  keys: KeyCommands
  events: StoreEvents
  reads: ReadCounts
}

/**
 * The store's reads: GET or MGET (GETs per node on a Cluster) of the stored bytes, each entry
 * decoded; an entry that is not one (corrupt, another type) reported, deleted and read as a miss;
 * an entry in another format (another pod's serializer) read as a miss and counted, nothing else;
 * hits and misses counted.
 */
export class EntryReads {
  constructor(private readonly ctx: EntryReadsContext) {}

  /** See RedisStore.get. */
  get<T>(key: string): Promise<CacheEntry<T> | undefined> {
    const { runner, prefix, events, name } = this.ctx
    return runner.run('get', key, undefined, true, async (client) => {
      let text: Buffer | null
      try {
        text = await client.getBuffer(prefix + key)
      } catch (error) {
        // Something else (a list, a hash) under our key: treat as corrupt.
        if (!isDataReply(error)) throw error
        await client.unlink(prefix + key)
        const message = `corrupt cache entry "${key}" in ${name}: ${String(error)}`
        events.report(
          'get',
          new CacheError(CacheErrorCode.CORRUPT_ENTRY, message, { key, cause: error }),
          key,
        )
        return undefined
      }
      const corrupt: string[] = []
      const entry = this.decode<T>('get', key, text, corrupt)
      if (corrupt.length > 0) await client.unlink(corrupt[0]!)
      return this.count(entry)
    })
  }

  /** See RedisStore.getMany. */
  getMany<T>(keys: readonly string[]): Promise<(CacheEntry<T> | undefined)[]> {
    const { runner, prefix } = this.ctx
    const misses: (CacheEntry<T> | undefined)[] = keys.map(() => undefined)
    return runner.run('getMany', undefined, misses, false, async (client) => {
      const out: (CacheEntry<T> | undefined)[] = []
      for (let i = 0; i < keys.length; i += BATCH_SIZE) {
        const chunk = keys.slice(i, i + BATCH_SIZE)
        const fullKeys = chunk.map((k) => prefix + k)
        const read = this.ctx.keys.getBuffers(client, fullKeys)
        const entries = await runner.deadline(
          read.then(async (texts) => {
            const corrupt: string[] = []
            const decoded = chunk.map((key, j) =>
              this.count(this.decode<T>('getMany', key, texts[j] ?? null, corrupt)),
            )
            if (corrupt.length > 0) await this.ctx.keys.unlinkMany(client, corrupt)
            return decoded
          }),
          'getMany',
        )
        out.push(...entries)
      }
      return out
    })
  }

  /**
   * A value read back: decoded, or (when not a valid entry) reported, listed in `corrupt` for the
   * caller to delete, and treated as a miss. Synchronous: the common path costs no extra promise.
   */
  private decode<T>(
    operation: string,
    key: string,
    text: Buffer | null,
    corrupt: string[],
  ): CacheEntry<T> | undefined {
    if (text === null) return undefined
    const { serializer, name, prefix, events } = this.ctx
    let entry: CacheEntry<T> | typeof OTHER_FORMAT
    try {
      entry = decodeStored<T>(text, serializer, key, name)
    } catch (error) {
      corrupt.push(prefix + key)
      events.report(operation, error, key)
      return undefined
    }
    if (entry === OTHER_FORMAT) {
      this.ctx.reads.formatMisses++
      return undefined
    }
    return this.ctx.now() < entry.staleUntil ? entry : undefined
  }

  /** Counts a read Redis answered, by outcome. */
  private count<T>(entry: CacheEntry<T> | undefined): CacheEntry<T> | undefined {
    if (entry === undefined) this.ctx.reads.misses++
    else this.ctx.reads.hits++
    return entry
  }
}
