export { MemoryStore } from './memory-store.ts'
export type { MemoryStoreOptions } from './memory-store-options.ts'
export { MemoryValueMode } from './memory-store-options.ts'
