/** Senders remembered for gap detection; the oldest is forgotten past this. */
const MAX_SENDERS = 10_000

/**
 * Incoming side: the last sequence number seen from each sender stream (an instance id, or
 * `<instanceId>~<n>` for one of its store's connections; see busSender). Each stream is ordered on
 * its own, so a number other than the last plus one means a message of that stream was lost.
 */
export class SequenceTracker {
  private readonly last = new Map<string, number>()

  constructor(private readonly maxSenders = MAX_SENDERS) {}

  /**
   * Records `seq` from `sender`. Returns the number that was expected when one was skipped (a gap),
   * undefined when in order or when this is the first message seen from the sender.
   */
  observe(sender: string, seq: number): number | undefined {
    const last = this.last.get(sender)
    // Delete then set: the map's order is least recently heard first, which is what gets forgotten.
    this.last.delete(sender)
    this.last.set(sender, seq)
    if (this.last.size > this.maxSenders) this.last.delete(this.last.keys().next().value as string)
    return last !== undefined && seq !== last + 1 ? last + 1 : undefined
  }

  /** Forgets every sender: after a reconnect, sequences restart from whatever arrives next. */
  reset(): void {
    this.last.clear()
  }
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
