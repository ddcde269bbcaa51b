import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite'
import { Cache } from '@strata-cache/core'
import { MemoryStore } from '@strata-cache/memory'
import Keyv from 'keyv'
import * as vitest from 'vitest'
import { KeyvStrata } from '../src/index.ts'
import { expectedFailures } from './helpers/expected-failures.ts'

// Keyv's own conformance suite (api, values, namespaces) on a memory-only Cache: every test passes.
const cache = new Cache({ store: new MemoryStore() })
vitest.afterAll(() => cache.close())

vitest.describe('@keyv/test-suite on new Cache({ store: new MemoryStore() })', () => {
  keyvTestSuite(vitest, Keyv, () => new KeyvStrata(cache))
})

// A Cache cannot list its keys, so Keyv has no iterator() over this adapter (README: not supported).
vitest.describe('@keyv/test-suite iterator tests, expected to fail: no iterator over a Cache', () => {
  keyvIteratorTests(expectedFailures(vitest), Keyv, () => new KeyvStrata(cache))
})
