export type {
  StoreCapabilities,
  StoreConformanceOptions,
  StoreFactoryContext,
} from './conformance/options.ts'
export { describeStoreConformance } from './describe-store-conformance.ts'
export type { ManualClock } from './manual-clock.ts'
export { createManualClock } from './manual-clock.ts'
export { sampleValues, unserializableValues } from './sample-values.ts'
