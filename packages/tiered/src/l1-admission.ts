/** Which values coming from L2 (or a loader) enter L1; a pod's own `set` always does. */
export const L1AdmissionMode = {
  /** Every value read from L2 fills L1. */
  ALWAYS: 'always',
  /** A key's value enters L1 the second time one arrives within the window (see {@link SeenTwice}). */
  SEEN_TWICE: 'seen-twice',
} as const

export type L1AdmissionMode = (typeof L1AdmissionMode)[keyof typeof L1AdmissionMode]

/** What the read and write paths ask before putting a value that came from L2 or a loader into L1. */
export interface L1Admission {
  /**
   * Records that a value of `key` could enter L1 now, and says whether it may. Call it once per such
   * value (an L2 hit, a loader's result), not on misses, and not for a key L1 already holds.
   */
  admit(key: string): boolean
  /** What `admit(key)` would answer now, without recording anything. */
  wouldAdmit(key: string): boolean
}

/** Admits everything: L1 takes every value L2 returns (mode `always`). */
export const ADMIT_ALL: L1Admission = {
  admit: () => true,
  wouldAdmit: () => true,
}

/**
 * Bits per remembered key (24 to 48 once rounded to a power of two): with 4 bits set per key, at
 * most a few in a thousand first sightings pass for second ones. Each one costs an L1 fill.
 */
const BITS_PER_KEY = 24
/** A key's bits all fall in one block of 16 words (one 64-byte cache line): one memory access per filter. */
const BLOCK_WORDS = 16
const MIN_BITS = 1024
/** Largest window: two filters of 4 MB. */
export const MAX_ADMISSION_WINDOW = 1_000_000

/**
 * TinyLFU's doorkeeper: a key is admitted the second time `admit` sees it, so a key read once (a
 * scan, a long tail of one-off keys) never costs L1 a deep-freeze, an LRU insert, an eviction and
 * an object kept alive until the garbage collector moves it twice. Two Bloom filters take turns:
 * sightings go into the current one, a key is known when either holds it, and after `window` new
 * keys the older one is cleared and becomes the current one. So a first sighting is remembered for
 * at least `window` and at most twice `window` other new keys; a key seen again within that time is
 * admitted (and remembered again). A false positive admits a key early; nothing is ever refused
 * that `always` would have filled for a second time.
 */
export class SeenTwice implements L1Admission {
  private current: Int32Array
  private previous: Int32Array
  /** Blocks per filter, minus one. */
  private readonly blockMask: number
  /** New keys recorded in `current`. */
  private added = 0

  constructor(
    /** New keys after which a first sighting may be forgotten (it is kept for 1 to 2 windows). */
    readonly window: number,
  ) {
    let bits = MIN_BITS
    while (bits < Math.min(window, MAX_ADMISSION_WINDOW) * BITS_PER_KEY) bits *= 2
    this.blockMask = bits / (BLOCK_WORDS * 32) - 1
    this.current = new Int32Array(bits >>> 5)
    this.previous = new Int32Array(bits >>> 5)
  }

  admit(key: string): boolean {
    return this.record(hashKey(key))
  }

  wouldAdmit(key: string): boolean {
    return this.knows(hashKey(key))
  }

  /** `wouldAdmit` for a key hashed with {@link hashKey}: a read hashes its key once. */
  knows(hash: number): boolean {
    const block = (hash & this.blockMask) * BLOCK_WORDS
    const bits = spread(hash)
    return holds(this.current, block, hash, bits) || holds(this.previous, block, hash, bits)
  }

  /** `admit` for a key hashed with {@link hashKey}. */
  record(hash: number): boolean {
    const block = (hash & this.blockMask) * BLOCK_WORDS
    const bits = spread(hash)
    if (holds(this.current, block, hash, bits)) return true
    const known = holds(this.previous, block, hash, bits)
    // Remembered again (or for the first time) in the current filter, once it has room.
    if (this.added >= this.window) this.rotate()
    this.added++
    const current = this.current
    current[block + ((bits & 511) >>> 5)]! |= 1 << (bits & 31)
    current[block + (((bits >>> 9) & 511) >>> 5)]! |= 1 << ((bits >>> 9) & 31)
    current[block + (((bits >>> 18) & 511) >>> 5)]! |= 1 << ((bits >>> 18) & 31)
    const last = fourth(hash, bits)
    current[block + (last >>> 5)]! |= 1 << (last & 31)
    return known
  }

  /** The older filter is forgotten; the current one becomes it. */
  private rotate(): void {
    const cleared = this.previous
    cleared.fill(0)
    this.previous = this.current
    this.current = cleared
    this.added = 0
  }
}

/** True when the four bits of a key (its block, and positions in it from `bits`) are all set. */
function holds(filter: Int32Array, block: number, hash: number, bits: number): boolean {
  if ((filter[block + ((bits & 511) >>> 5)]! & (1 << (bits & 31))) === 0) return false
  if ((filter[block + (((bits >>> 9) & 511) >>> 5)]! & (1 << ((bits >>> 9) & 31))) === 0) return false
  if ((filter[block + (((bits >>> 18) & 511) >>> 5)]! & (1 << ((bits >>> 18) & 31))) === 0) return false
  const last = fourth(hash, bits)
  return (filter[block + (last >>> 5)]! & (1 << (last & 31))) !== 0
}

/** The fourth position in the block: the 5 bits `spread` has left, and 4 of the hash's top bits. */
function fourth(hash: number, bits: number): number {
  return ((bits >>> 27) | ((hash >>> 23) & 0x1e0)) & 511
}

/** FNV-1a over the key's UTF-16 code units: what {@link SeenTwice} remembers of a key. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5 | 0
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return h
}

/** Positions in the block, 9 bits each, mixed from the hash (murmur3's finalizer). */
function spread(hash: number): number {
  let x = hash ^ (hash >>> 16)
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  return x ^ (x >>> 16)
}
