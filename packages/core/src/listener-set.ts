/**
 * The one policy for a listener that throws, shared by the Cache, the stores and the bus: the
 * call that emitted carries on, the other listeners still run, and the error becomes a process
 * warning (`CacheListenerWarning`), never a silent loss and never a caller's error.
 */
export function reportListenerError(error: unknown, source: string): void {
  try {
    process.emitWarning(`strata-cache: a ${source} listener threw: ${String(error)}`, 'CacheListenerWarning')
  } catch {
    // Nothing left to report to.
  }
}

/**
 * Listeners of one event stream (a store's or a bus's events). Copy on write, so a listener that
 * unsubscribes during an emit does not disturb it; `size` is a property read for the hot path.
 */
export class ListenerSet<E> {
  private list: readonly ((event: E) => void)[] = []

  /** @param source names the emitter in the warning a throwing listener causes, e.g. `"redis store"`. */
  constructor(private readonly source: string) {}

  /** Adds a listener; returns the function that removes it. */
  add(listener: (event: E) => void): () => void {
    this.list = [...this.list, listener]
    return () => {
      this.list = this.list.filter((l) => l !== listener)
    }
  }

  /** How many listeners there are: check it before building an event nobody would read. */
  get size(): number {
    return this.list.length
  }

  /** Calls every listener with `event`; one that throws is reported, not rethrown. */
  emit(event: E): void {
    for (const listener of this.list) {
      try {
        listener(event)
      } catch (error) {
        reportListenerError(error, this.source)
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.list = []
  }
}
