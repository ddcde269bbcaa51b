import { createHash } from 'node:crypto'
import type { CacheEntry } from '@strata-cache/core'
import { decodeHeader } from './entry-codec.ts'
import { runScript, type Script } from './fence-scripts.ts'
import type { Bound, KeyCommands } from './key-commands.ts'
import type { RedisClient } from './redis-store-options.ts'
import { hashTag } from './slot-keys.ts'

// Tag sets live under `<prefix>#tag:`; `#` is not a key character, so no cache key can collide with them.
const INTERNAL_MARK = '#'
const TAG_SCAN_COUNT = 500

/*
 * One batch of a tag's members, in one atomic step: UNLINK each entry that still carries the tag (or
 * is not a Strata entry), SREM every member. Done as separate round trips, a write landing between
 * our UNLINK and our SREM (its SADD a no-op, the key still a member; then its SET) left an entry
 * carrying the tag outside its set, out of reach of every later invalidateTags — the soak found it.
 * KEYS[1] the tag set, KEYS[2..] the entries; ARGV[1] the tag, ARGV[2..] the members.
 */
const TAG_BATCH_TEXT = `
local tag, removed = ',' .. ARGV[1] .. ',', 0
for i = 2, #KEYS do
  local v = redis.pcall('GET', KEYS[i])
  if v then
    local doomed = true
    if type(v) == 'string' then
      local nl = string.find(v, '\\n', 1, true)
      local magic = string.sub(v, 1, 3)
      if nl and (magic == 'S1\\t' or magic == 'S2\\t') then
        local n, tags = 0, nil
        for field in string.gmatch(string.sub(v, 4, nl - 1) .. '\\t', '([^\\t]*)\\t') do
          n = n + 1
          if n == 4 then tags = field break end
        end
        doomed = tags ~= nil and string.find(',' .. tags .. ',', tag, 1, true) ~= nil
      end
    end
    if doomed then removed = removed + redis.call('UNLINK', KEYS[i]) end
  end
  redis.call('SREM', KEYS[1], ARGV[i])
end
return removed
`
const TAG_BATCH: Script = {
  text: TAG_BATCH_TEXT,
  sha: createHash('sha1').update(TAG_BATCH_TEXT).digest('hex'),
}

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
        // One script where every key shares a slot: a single node, or a prefix with a hash tag.
        if (!this.keys.isCluster || hashTag(this.prefix) !== undefined) {
          const entries = members.map((m) => this.prefix + m)
          removed += Number(
            await bound(runScript(client, TAG_BATCH, [tagKey, ...entries], [tag, ...members])),
          )
          continue
        }
        // A Cluster cannot run one script over keys of many slots: reads and UNLINKs per slot there.
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
