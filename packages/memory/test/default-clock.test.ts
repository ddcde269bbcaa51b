import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryStore } from '../src/index.ts'

afterEach(() => {
  vi.useRealTimers()
})

describe('MemoryStore default clock', () => {
  it('reads Date.now on every call, so vitest fake timers drive expiry', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) })
    const store = new MemoryStore()
    const at = Date.now()
    await store.set('k', { value: 'v', createdAt: at, expiresAt: at + 1_000, staleUntil: at + 5_000 })
    vi.advanceTimersByTime(4_999)
    expect(store.peek('k')?.value).toBe('v')
    vi.advanceTimersByTime(1)
    expect(store.peek('k')).toBeUndefined()
    expect(store.size).toBe(0)
  })

  it('records write times on the same clock for purgeWrittenBefore', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1) })
    const store = new MemoryStore()
    const entry = () => ({
      value: 1,
      createdAt: 0,
      expiresAt: Date.now() + 60_000,
      staleUntil: Date.now() + 60_000,
    })
    await store.set('first', entry())
    vi.setSystemTime(Date.now() + 100)
    const cut = Date.now()
    await store.set('second', entry())
    expect(store.purgeWrittenBefore(cut)).toBe(1)
    expect([...store.keys()]).toEqual(['second'])
  })
})
