import { packageTestConfig } from '../../vitest.shared.ts'

// Each file starts its own pods and Redis; files run one at a time so they do not fight for the 2 CPUs.
export default packageTestConfig({ fileParallelism: false, testTimeout: 30_000 })
