const STAR = 42 // *
const QUESTION = 63 // ?
/** Key characters are ASCII; any other character can only meet a `?`. */
const ASCII = 128

/** Counts the work matches did, for tests that bound it (see {@link compileGlob}). */
export interface GlobMatchCounter {
  /** Word operations: one per key character per 32 characters of pattern, summed over every call given this counter. */
  steps: number
}

/** A compiled glob: true when the whole key matches. */
export type GlobMatch = (key: string, counter?: GlobMatchCounter) => boolean

/**
 * Compiles a glob (`*` any run, `?` one character, anything else itself) to a matcher whose cost is
 * linear in the key, whatever the pattern: at most `key.length × ⌈(literals + 1) / 32⌉` word
 * operations, where literals counts the pattern's characters other than `*` (256 at most, so 9 words).
 *
 * It runs the glob's automaton on all its states at once (bit-parallel, "shift-and"): state `i`
 * means "the first `i` non-`*` characters of the pattern are matched", a key character moves every
 * state whose next pattern character accepts it one bit up, and a `*` before character `i` keeps
 * state `i` alive on any character. No backtracking, so no pattern can make a match slow; a RegExp
 * compiled from the glob (`.*` per `*`) backtracks, and took seconds on one key for
 * `*a*a*a*a*a*a*a*a*b`. Cheap checks of the literal head and tail come first, so most keys are
 * refused without running the automaton.
 */
export function compileGlob(pattern: string): GlobMatch {
  let literals = 0
  for (let i = 0; i < pattern.length; i++) if (pattern.charCodeAt(i) !== STAR) literals++
  const words = (literals + 32) >>> 5 // bits 0..literals
  const accept = literals
  /** Per ASCII character and word: the states (bits) a character moves into. */
  const moves = new Uint32Array(ASCII * words)
  /** Bits set by `?`: what a character outside ASCII moves into, unless the pattern names it (below). */
  const anyChar = new Uint32Array(words)
  /** Moves of the non-ASCII characters the pattern names (validatePattern refuses them; deletePattern may not). */
  const otherMoves = new Map<number, Uint32Array>()
  /** States kept on any character: those right after a `*`. */
  const loops = new Uint32Array(words)
  let state = 0
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i)
    if (c === STAR) {
      loops[state >>> 5]! |= 1 << (state & 31)
      continue
    }
    state++
    const word = state >>> 5
    const bit = 1 << (state & 31)
    if (c === QUESTION) {
      anyChar[word]! |= bit
      for (let ch = 0; ch < ASCII; ch++) moves[ch * words + word]! |= bit
    } else if (c < ASCII) {
      moves[c * words + word]! |= bit
    } else {
      let own = otherMoves.get(c)
      if (own === undefined) {
        own = new Uint32Array(words)
        otherMoves.set(c, own)
      }
      own[word]! |= bit
    }
  }
  // `?`s of the pattern accept the non-ASCII characters it names too.
  for (const own of otherMoves.values()) for (let w = 0; w < words; w++) own[w]! |= anyChar[w]!
  const outside = (c: number): Uint32Array => otherMoves.get(c) ?? anyChar

  // The literal head and tail are anchored to the key's start and end: cheap checks first.
  const head = pattern.slice(0, firstWildcard(pattern))
  const tail = pattern.slice(lastWildcard(pattern) + 1)
  const hasStar = pattern.includes('*')
  // Without a `*` only keys of exactly `literals` characters can match; with one, none shorter.
  const quickReject = (key: string): boolean =>
    (hasStar ? key.length < literals : key.length !== literals) ||
    !key.startsWith(head) ||
    !key.endsWith(tail)
  /** A pattern ending in `*` matches as soon as its last state is reached. */
  const acceptLoops = (loops[accept >>> 5]! & (1 << (accept & 31))) !== 0

  if (words === 1) {
    const loop = loops[0]!
    const acceptBit = 1 << accept
    return (key, counter) => {
      if (quickReject(key)) return false
      let d = 1
      let i = 0
      for (; i < key.length && d !== 0; i++) {
        if (acceptLoops && (d & acceptBit) !== 0) break
        const c = key.charCodeAt(i)
        d = ((d << 1) & (c < ASCII ? moves[c]! : outside(c)[0]!)) | (d & loop)
      }
      if (counter !== undefined) counter.steps += i
      return (d & acceptBit) !== 0
    }
  }

  const current = new Uint32Array(words)
  return (key, counter) => {
    if (quickReject(key)) return false
    current.fill(0)
    current[0] = 1
    let i = 0
    let alive = 1
    for (; i < key.length && alive !== 0; i++) {
      if (acceptLoops && (current[accept >>> 5]! & (1 << (accept & 31))) !== 0) break
      const c = key.charCodeAt(i)
      const base = c < ASCII ? c * words : -1
      const other = base === -1 ? outside(c) : anyChar
      let carry = 0
      alive = 0
      for (let w = 0; w < words; w++) {
        const d = current[w]!
        const move = base === -1 ? other[w]! : moves[base + w]!
        const next = (((d << 1) | carry) & move) | (d & loops[w]!)
        carry = d >>> 31
        current[w] = next
        alive |= next
      }
    }
    if (counter !== undefined) counter.steps += i * words
    return (current[accept >>> 5]! & (1 << (accept & 31))) !== 0
  }
}

/** Index of the first `*` or `?`, or the pattern's length when it has none. */
function firstWildcard(pattern: string): number {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i)
    if (c === STAR || c === QUESTION) return i
  }
  return pattern.length
}

/** Index of the last `*` or `?`, or -1 when it has none. */
function lastWildcard(pattern: string): number {
  for (let i = pattern.length - 1; i >= 0; i--) {
    const c = pattern.charCodeAt(i)
    if (c === STAR || c === QUESTION) return i
  }
  return -1
}

/** A predicate for a glob: plain patterns compare by equality, others run {@link compileGlob}'s matcher. */
export function globMatcher(pattern: string): (key: string) => boolean {
  if (lastWildcard(pattern) === -1) return (key) => key === pattern
  const match = compileGlob(pattern)
  return (key) => match(key)
}
