// One implementation for the workspace's tests: @strata-cache/test-suite/testing.
export { sleep, until } from '@strata-cache/test-suite/testing'
