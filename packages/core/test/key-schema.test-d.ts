import { describe, expectTypeOf, it } from 'vitest'
import { Cache, type CacheEventMap, defineKey } from '../src/index.ts'

describe('defineKey types', () => {
  it('requires exactly the template parameters', () => {
    const k = defineKey('thermal:rack:{rackId}:{hash}')
    expectTypeOf(k).parameter(0).toEqualTypeOf<{
      rackId: string | number | bigint | boolean
      hash: string | number | bigint | boolean
    }>()
    // @ts-expect-error missing hash
    k({ rackId: 1 })
    // @ts-expect-error unknown parameter
    k({ rackId: 1, hash: 'x', extra: 1 })
    expectTypeOf(k.pattern)
      .parameter(0)
      .toEqualTypeOf<
        | Partial<{ rackId: string | number | bigint | boolean; hash: string | number | bigint | boolean }>
        | undefined
      >()
  })
})

describe('event types', () => {
  it('types listeners by event name', () => {
    const on = Cache.prototype.on
    expectTypeOf<CacheEventMap['hit']>().toEqualTypeOf<{ key: string; tier: string; stale: boolean }>()
    expectTypeOf(on<'breaker'>)
      .parameter(1)
      .parameter(0)
      .toHaveProperty('state')
    expectTypeOf<CacheEventMap['invalidate']['source']>().toEqualTypeOf<'local' | 'bus'>()
  })
})
