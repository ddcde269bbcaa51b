/** What every compared library is driven through: the calls the scenarios need, nothing more. */
export interface CompareCache {
  get(key: string): Promise<unknown>
  set(key: string, value: unknown): Promise<void>
  /** Read-through: the cached value, or the loader's result (cached). */
  getOrSet(key: string, loader: () => Promise<unknown>): Promise<unknown>
  delete(key: string): Promise<void>
  close(): Promise<void>
  /** Counts of what the library reported about itself (absorbed errors, breaker changes), when it reports any. */
  diagnostics?(): Record<string, number>
}

/** One library in its documented multi-instance setup. */
export interface Contender {
  /** Short id used on the command line and in results.json. */
  readonly id: string
  readonly label: string
  /** npm packages whose installed versions go in the report. */
  readonly packages: readonly string[]
  /** How it is configured, for the report. */
  readonly setup: string
  create(redisUrl: string): Promise<CompareCache>
}

/** Same for every library: long enough that nothing expires during a scenario. */
export const TTL_MS = 10 * 60_000

/** L1 capacity for every library: above the 1,000-key hot set, below the L2 scenarios' key counts. */
export const L1_MAX_ENTRIES = 10_000
