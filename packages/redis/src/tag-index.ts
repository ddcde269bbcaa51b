import type { CacheEntry } from '@strata-cache/core'
import { decodeHeader } from './entry-codec.ts'
import type { Bound, KeyCommands } from './key-commands.ts'
import type { RedisClient } from './redis-store-options.ts'

// Tag sets live under `<prefix>#tag:`; `#` is not a key character, so no cache key can collide with them.
const INTERNAL_MARK = '#'
const TAG_SCAN_COUNT = 500

/** One entry of a write, encoded; `ttlMs <= 0` means "past staleUntil: delete it instead". */
export interface EncodedWrite {
  key: string
  /** The encoded entry: text, or bytes (a binary or compressed value). */
  text: string | Buffer
  ttlMs: number
  entry: CacheEntry
}

/**
 * Which keys carry a tag: a Redis set per tag at `<prefix>#tag:<tag>`, written before the entries,
 * so that `deleteTags` costs time proportional to the tagged keys, never a keyspace scan.
 */
export class TagIndex {
  /** Every key of the store that is not an entry (the tag sets) starts with this. */
  readonly internalPrefix: string

  constructor(
    private readonly prefix: string,
    private readonly keys: KeyCommands,
  ) {
    this.internalPrefix = prefix + INTERNAL_MARK
  }

  /** The Redis set that lists the keys carrying `tag`. */
  keyFor(tag: string): string {
    return `${this.internalPrefix}tag:${tag}`
  }

  /**
   * Adds to `commands` the writes that index a batch's tags: one SADD per tag, and an expiry at
   * least as long as the longest member's. Issue them before the entries' SETs: a deleteTags racing
   * the write then finds the keys.
   */
  pushWrites(client: RedisClient, items: readonly EncodedWrite[], commands: Promise<unknown>[]): void {
    const tagged = new Map<string, { members: string[]; ttlMs: number }>()
    for (const { key, ttlMs, entry } of items) {
      if (ttlMs <= 0 || entry.tags === undefined) continue
      for (const tag of entry.tags) {
        const group = tagged.get(tag)
        if (group === undefined) tagged.set(tag, { members: [key], ttlMs })
        else {
          group.members.push(key)
          group.ttlMs = Math.max(group.ttlMs, ttlMs)
        }
      }
    }
    for (const [tag, { members, ttlMs }] of tagged) {
      const tagKey = this.keyFor(tag)
      commands.push(client.sadd(tagKey, ...members))
      // A set lives at least as long as its longest member: set a TTL if none, else only extend it.
      commands.push(client.pexpire(tagKey, ttlMs, 'NX'), client.pexpire(tagKey, ttlMs, 'GT'))
    }
  }

  /**
   * For each tag, walks its set (SSCAN) and UNLINKs the members that still carry the tag; a key
   * re-written without the tag is kept. Each round trip is bounded by `bound`. Resolves how many
   * entries were removed.
   */
  async deleteTags(client: RedisClient, tags: readonly string[], bound: Bound): Promise<number> {
    let removed = 0
    for (const tag of new Set(tags)) {
      const tagKey = this.keyFor(tag)
      let cursor = '0'
      do {
        const [next, members] = await bound(client.sscan(tagKey, cursor, 'COUNT', TAG_SCAN_COUNT))
        cursor = next
        if (members.length === 0) continue
        const texts = await bound(
          this.keys.getTexts(
            client,
            members.map((m) => this.prefix + m),
          ),
        )
        const doomed: string[] = []
        members.forEach((member, i) => {
          const text = texts[i]
          if (text === null || text === undefined) return
          const header = decodeHeader(text)
          // A corrupt value under a tagged key goes too.
          if (header === undefined || header.tags.includes(tag)) doomed.push(this.prefix + member)
        })
        if (doomed.length > 0) removed += await bound(this.keys.unlinkMany(client, doomed))
        // SREM what we handled rather than UNLINK the set: members added meanwhile stay findable.
        await bound(client.srem(tagKey, ...members))
      } while (cursor !== '0')
    }
    return removed
  }
}
