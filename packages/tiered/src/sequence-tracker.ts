/** Established senders remembered for gap detection; the least recently heard is forgotten past this. */
const MAX_SENDERS = 10_000
/** Senders heard once, on probation until their next message in order; the oldest goes past this. */
const MAX_PROBATION = 256

/**
 * Incoming side: the last sequence number seen from each sender stream (an instance id, or
 * `<instanceId>~<n>` for one of its store's connections; see busSender). Each stream is ordered on
 * its own, so a number other than the last plus one means a message of that stream was lost.
 *
 * Admission: a sender heard for the first time enters a small probation table, and moves to the
 * established table on its next message in order. Real pods send in order, so they are promoted at
 * once; a flood of made-up ids (each heard once, or out of order) only cycles through probation and
 * never evicts an established pod, whose gap detection would otherwise be lost. Gaps are judged the
 * same in both tables.
 */
export class SequenceTracker {
  private readonly established = new Map<string, number>()
  private readonly probation = new Map<string, number>()
  /** The established sender heard last: already the most recent, so its next message skips the reorder. */
  private newest: string | undefined

  constructor(
    private readonly maxSenders = MAX_SENDERS,
    private readonly maxProbation = MAX_PROBATION,
  ) {}

  /**
   * Records `seq` from `sender`. Returns the number that was expected when one was skipped (a gap),
   * undefined when in order or when this is the first message seen from the sender.
   */
  observe(sender: string, seq: number): number | undefined {
    const last = this.established.get(sender)
    if (last !== undefined) {
      // Setting an existing key keeps its place: only a change of sender moves one to the end.
      if (sender === this.newest) this.established.set(sender, seq)
      else this.establish(sender, seq)
      return seq !== last + 1 ? last + 1 : undefined
    }
    const trial = this.probation.get(sender)
    if (trial !== undefined && seq === trial + 1) {
      this.probation.delete(sender)
      this.establish(sender, seq)
      return undefined
    }
    remember(this.probation, sender, seq, this.maxProbation)
    return trial !== undefined ? trial + 1 : undefined
  }

  /** How many senders each table holds. */
  get size(): { established: number; probation: number } {
    return { established: this.established.size, probation: this.probation.size }
  }

  /** Whether `sender` is established (heard twice in order, and not forgotten since). */
  isEstablished(sender: string): boolean {
    return this.established.has(sender)
  }

  /** Forgets every sender: after a reconnect, sequences restart from whatever arrives next. */
  reset(): void {
    this.established.clear()
    this.probation.clear()
    this.newest = undefined
  }

  private establish(sender: string, seq: number): void {
    remember(this.established, sender, seq, this.maxSenders)
    this.newest = sender
  }
}

/** Sets `sender`'s number as the most recently heard (delete then set keeps Map order LRU), forgetting the least recent past `max`. */
function remember(table: Map<string, number>, sender: string, seq: number, max: number): void {
  table.delete(sender)
  table.set(sender, seq)
  if (table.size > max) table.delete(table.keys().next().value as string)
}

/** Outgoing side: the next sequence number of this sender's own stream, and of each store connection's. */
export class OutgoingSequences {
  private own = 0
  private readonly streams = new Map<number, number>()

  /** The next number on the bus's own connection (`stream` undefined) or on store connection `stream`. */
  next(stream?: number): number {
    if (stream === undefined) return ++this.own
    const seq = (this.streams.get(stream) ?? 0) + 1
    this.streams.set(stream, seq)
    return seq
  }
}
