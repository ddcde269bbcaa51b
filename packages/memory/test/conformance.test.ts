import { describeStoreConformance } from '@strata-cache/test-suite'
import { MemoryStore } from '../src/index.ts'

describeStoreConformance({
  name: 'MemoryStore',
  createStore: ({ now }) => new MemoryStore({ now }),
  capabilities: { sharedAcrossInstances: false, survivesRestart: false, injectableClock: true },
})

describeStoreConformance({
  name: 'MemoryStore with maxBytes',
  createStore: ({ now }) => new MemoryStore({ now, maxBytes: 1_000_000, maxEntries: 100 }),
  capabilities: { sharedAcrossInstances: false, survivesRestart: false, injectableClock: true },
})

describeStoreConformance({
  name: "MemoryStore with values: 'reference'",
  createStore: ({ now }) => new MemoryStore({ now, values: 'reference' }),
  capabilities: {
    sharedAcrossInstances: false,
    survivesRestart: false,
    injectableClock: true,
    serializesValues: false,
  },
})

// The default clock (Date.now read per call): exercises the suite's real-time expiry path.
describeStoreConformance({
  name: 'MemoryStore on the real clock',
  createStore: () => new MemoryStore(),
  capabilities: { sharedAcrossInstances: false, survivesRestart: false, injectableClock: false },
})
