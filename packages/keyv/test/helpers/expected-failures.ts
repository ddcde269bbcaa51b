import type * as Vitest from 'vitest'

/**
 * The vitest module with `it` as `it.fails`: each test the suite registers must fail, and the run
 * reports it if one starts passing (then the README's "not supported" list is out of date).
 */
export function expectedFailures(vitest: typeof Vitest): typeof Vitest {
  return { ...vitest, it: vitest.it.fails as unknown as typeof Vitest.it }
}
