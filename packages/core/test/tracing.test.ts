import { describe, expect, it } from 'vitest'
import { Cache, type CacheTracing } from '../src/index.ts'
import { MapStore } from './fixtures/map-store.ts'

/** A tracing hook that records spans as `parent > name` lines. */
function recorder(storeSpans = false) {
  const spans: string[] = []
  const stack: string[] = []
  const tracing: CacheTracing = {
    storeSpans,
    async span(name, attributes, fn) {
      spans.push(
        `${stack.at(-1) ?? '-'} > ${name}${attributes['cache.key'] ? ` ${attributes['cache.key']}` : ''}`,
      )
      stack.push(name)
      try {
        return await fn({ setAttribute() {} })
      } finally {
        stack.pop()
      }
    },
  }
  return { spans, tracing }
}

describe('Cache.trace', () => {
  it('runs each operation in a span started before it, and the loader inside its own', async () => {
    const { spans, tracing } = recorder()
    const cache = new Cache({ store: new MapStore() })
    cache.trace(tracing)
    await cache.getOrSet('k:1', async () => 1)
    await cache.set('k:2', 2)
    await cache.get('k:2')
    await cache.getMany(['k:1'])
    await cache.delete('k:2')
    await cache.invalidate('k:*')
    expect(spans).toEqual([
      '- > cache.getOrSet k:1',
      'cache.getOrSet > cache.loader k:1',
      '- > cache.set k:2',
      '- > cache.get k:2',
      '- > cache.getMany',
      '- > cache.delete k:2',
      '- > cache.invalidate',
    ])
  })

  it('hands the hook to the store only with storeSpans, and takes it back when removed', async () => {
    const store = new MapStore()
    const given: unknown[] = []
    Object.assign(store, { trace: (t: unknown) => given.push(t) })
    const cache = new Cache({ store })
    cache.trace(recorder(false).tracing)()
    const { tracing } = recorder(true)
    const remove = cache.trace(tracing)
    remove()
    remove()
    expect(given).toEqual([undefined, undefined, tracing, undefined])
    const { spans } = recorder()
    await cache.getOrSet('k', () => 1)
    expect(spans).toEqual([])
  })
})
