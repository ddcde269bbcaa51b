/*
 * Redis Cluster slots: which of the 16384 slots a key hashes to (CRC16/XMODEM of the key, or of its
 * hash tag — the text between the first `{` and the first `}` after it, when not empty), and how the
 * store names keys that must live in the same slot as an entry (its fences, its lock) so that one
 * script can check them atomically with the write.
 */

/** Slots in a Redis Cluster. */
export const CLUSTER_SLOTS = 16384

const TABLE = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  TABLE[i] = crc
}

/** CRC16/XMODEM of the key's UTF-8 bytes, as Redis Cluster computes it. */
function crc16(text: string): number {
  let crc = 0
  for (const byte of Buffer.from(text, 'utf8'))
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!
  return crc
}

/** The hash tag of `key` (the text Redis hashes instead of the whole key), or undefined when it has none. */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{')
  if (open === -1) return undefined
  const close = key.indexOf('}', open + 1)
  if (close === -1 || close === open + 1) return undefined
  return key.slice(open + 1, close)
}

/** The cluster slot of `key` (0 to 16383), hash tags included. */
export function keySlot(key: string): number {
  return crc16(hashTag(key) ?? key) % CLUSTER_SLOTS
}

/**
 * Why `prefix` cannot be used on a cluster, or undefined when it can: a prefix either holds a complete
 * hash tag (`{app}:` — then every key of the store shares one slot) or has neither `{` nor `}` (then
 * the store tags the keys that must share an entry's slot with the entry's own key).
 */
export function clusterPrefixProblem(prefix: string): string | undefined {
  if (!/[{}]/.test(prefix) || hashTag(prefix) !== undefined) return undefined
  return `prefix ${JSON.stringify(prefix)} has "{" or "}" but no complete hash tag: on a Cluster use one like "{app}:" (every key on one shard) or none`
}

/**
 * A key made of `head` and `fullKey` (an entry's Redis key) that lives in the entry's slot:
 * `<head>{<fullKey>}` when the entry key has no hash tag, else `<head><fullKey>` (its tag decides).
 * `head` must hold no `{` of its own unless it carries that same tag (a prefix's `{app}`).
 */
export function sameSlotKey(head: string, fullKey: string): string {
  const tag = hashTag(fullKey)
  const key = tag === undefined ? `${head}{${fullKey}}` : head + fullKey
  if (hashTag(key) !== (tag ?? fullKey)) {
    throw new Error(`sameSlotKey: "${head}" would move the key out of the slot of "${fullKey}"`)
  }
  return key
}

/**
 * Groups `keys` by cluster slot, keeping each group in the order given. `slotOf` maps an item to the
 * Redis key that decides its slot. Returns the groups with, for each item, its index in `keys`.
 */
export function groupBySlot<T>(
  keys: readonly T[],
  slotOf: (item: T) => string,
): { items: T[]; indexes: number[] }[] {
  const groups = new Map<number, { items: T[]; indexes: number[] }>()
  keys.forEach((item, index) => {
    const slot = keySlot(slotOf(item))
    let group = groups.get(slot)
    if (group === undefined) {
      group = { items: [], indexes: [] }
      groups.set(slot, group)
    }
    group.items.push(item)
    group.indexes.push(index)
  })
  return [...groups.values()]
}
