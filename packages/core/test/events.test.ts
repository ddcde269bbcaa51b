import { afterEach, describe, expect, it, vi } from 'vitest'
import { CacheEvents } from '../src/events.ts'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('CacheEvents', () => {
  it('reports a throwing listener as a CacheListenerWarning naming the event, and still runs the others', () => {
    const warning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {})
    const events = new CacheEvents()
    const seen: string[] = []
    events.on('miss', () => {
      throw new Error('listener bug')
    })
    events.on('miss', (e) => seen.push(e.key))
    expect(() => events.emit('miss', { key: 'k' })).not.toThrow()
    expect(seen).toEqual(['k'])
    expect(warning).toHaveBeenCalledWith(
      expect.stringMatching(/"miss" listener threw: Error: listener bug/),
      'CacheListenerWarning',
    )
  })

  it('has() is false again once the last listener of an event is removed, or after removeAll', () => {
    const events = new CacheEvents()
    expect(events.has('hit')).toBe(false)
    const off1 = events.on('hit', () => {})
    const off2 = events.on('hit', () => {})
    off1()
    expect(events.has('hit')).toBe(true)
    off2()
    expect(events.has('hit')).toBe(false)
    events.on('set', () => {})
    events.removeAll()
    expect(events.has('set')).toBe(false)
  })

  it('relays store events as the events of the same name, without the type field', () => {
    const events = new CacheEvents()
    const seen: unknown[] = []
    events.on('error', (e) => seen.push(e))
    events.on('invalidate', (e) => seen.push(e))
    const error = new Error('down')
    events.relay({ type: 'error', operation: 'get', tier: 'redis', error, key: 'k' })
    events.relay({ type: 'invalidate', kind: 'tags', source: 'bus', tags: ['t'] })
    events.relay({ type: 'bus', state: 'gap' }) // nobody listens: nothing built, nothing thrown
    expect(seen).toEqual([
      { operation: 'get', tier: 'redis', error, key: 'k' },
      { kind: 'tags', source: 'bus', tags: ['t'] },
    ])
  })
})
