import { CacheOptionError, type CacheStore } from '@strata-cache/core'
import { assertKnownOptions } from '@strata-cache/core/internal'

/** What the suite hands `createStore` for each store it opens. */
export interface StoreFactoryContext {
  /** Fresh per test (`t<random>:`), so one shared backend needs no flush between tests. */
  prefix: string
  /** The suite's clock (epoch ms). Stores declaring `injectableClock` must read time only from it. */
  now: () => number
}

/** What a store can do; tests that need a capability the store lacks are skipped, saying why. */
export interface StoreCapabilities {
  /** Two instances with the same prefix see each other's entries (Redis); prefixes isolate. @default false */
  sharedAcrossInstances?: boolean
  /** Entries written before `close()` are read by a new instance with the same prefix. @default false */
  survivesRestart?: boolean
  /** Freshness is decided only by the `now` passed to createStore, so advancing it expires entries. @default false */
  injectableClock?: boolean
  /** Operations after `close()` reject with E_CLOSED (otherwise the store documents what they do). @default true */
  rejectsAfterClose?: boolean
  /** Values go through a JSON serializer, so a function, cycle, BigInt or Map is refused. @default true */
  serializesValues?: boolean
}

/** Options of {@link describeStoreConformance}. */
export interface StoreConformanceOptions {
  /** Shown in the describe block: `<name> store conformance`. */
  name: string
  /** Opens a store; the suite closes every store it opens. May return a Promise. */
  createStore: (context: StoreFactoryContext) => CacheStore | Promise<CacheStore>
  /** See {@link StoreCapabilities}. */
  capabilities?: StoreCapabilities
}

const KNOWN_OPTIONS = ['name', 'createStore', 'capabilities'] as const
const KNOWN_CAPABILITIES = [
  'sharedAcrossInstances',
  'survivesRestart',
  'injectableClock',
  'rejectsAfterClose',
  'serializesValues',
] as const

/** Checks the options (throwing a CacheOptionError naming the bad one) and returns the capabilities with defaults. */
export function resolveCapabilities(options: StoreConformanceOptions): Required<StoreCapabilities> {
  assertKnownOptions('describeStoreConformance', options, KNOWN_OPTIONS)
  if (typeof options.name !== 'string' || options.name === '') {
    throw new CacheOptionError('describeStoreConformance: name must be a non-empty string', {
      option: 'name',
    })
  }
  if (typeof options.createStore !== 'function') {
    throw new CacheOptionError('describeStoreConformance: createStore must be a function', {
      option: 'createStore',
    })
  }
  assertKnownOptions('describeStoreConformance capabilities', options.capabilities, KNOWN_CAPABILITIES)
  return {
    sharedAcrossInstances: false,
    survivesRestart: false,
    injectableClock: false,
    rejectsAfterClose: true,
    serializesValues: true,
    ...options.capabilities,
  }
}
