import { describe, expect, it } from 'vitest'
import {
  CacheError,
  CacheKeyError,
  defineKey,
  hashParams,
  keyPatternOf,
  validateKey,
  validatePattern,
  validateTags,
} from '../src/index.ts'
import { globMatcher } from '../src/internal.ts'

describe('validateKey', () => {
  it('accepts the key alphabet up to 256 characters', () => {
    expect(() => validateKey('thermal:rack:123:a1b2c3d4')).not.toThrow()
    expect(() => validateKey('A-Z_a.z:09')).not.toThrow()
    expect(() => validateKey('k'.repeat(256))).not.toThrow()
  })

  it('names the key, the character and its position', () => {
    expect(() => validateKey('a b')).toThrow(
      'invalid cache key "a b": character " " at 1 is not allowed (allowed: A-Z a-z 0-9 : _ - .)',
    )
    expect(() => validateKey('user/42')).toThrow(/character "\/" at 4/)
    expect(() => validateKey('caf\u00e9')).toThrow(/character "é" at 3/)
    expect(() => validateKey('a\nb')).toThrow(/character "\\u000a" at 1/)
  })

  it('refuses empty, too long and non-string keys with E_INVALID_KEY', () => {
    for (const bad of ['', 'k'.repeat(257), 42, undefined, null, ['a']]) {
      try {
        validateKey(bad as never)
        expect.unreachable()
      } catch (error) {
        expect(error).toBeInstanceOf(CacheKeyError)
        expect(CacheError.is(error, 'E_INVALID_KEY')).toBe(true)
      }
    }
    expect(() => validateKey('k'.repeat(257))).toThrow(/257 characters, the limit is 256/)
  })

  it('treats glob characters as invalid in keys but valid in patterns', () => {
    expect(() => validateKey('a*')).toThrow(CacheKeyError)
    expect(() => validatePattern('thermal:rack:*:?')).not.toThrow()
    expect(() => validatePattern('a b*')).toThrow(/invalid cache pattern "a b\*": character " " at 1/)
    try {
      validatePattern('[abc]')
    } catch (error) {
      expect(CacheError.is(error, 'E_INVALID_PATTERN')).toBe(true)
    }
  })

  it('validates tags with the key alphabet', () => {
    expect(() => validateTags(['rack:1', 'team-a'])).not.toThrow()
    expect(() => validateTags(['ok', 'not ok'])).toThrow(/invalid tag: "not ok": character " "/)
    expect(() => validateTags('rack' as never)).toThrow(/expected an array/)
  })
})

describe('globMatcher', () => {
  it('matches * and ? and treats every other character literally', () => {
    const m = globMatcher('thermal:rack:1?:*')
    expect(m('thermal:rack:12:abc')).toBe(true)
    expect(m('thermal:rack:1:abc')).toBe(false)
    expect(m('thermal:rack:123:abc')).toBe(false)
    const dots = globMatcher('a.b*')
    expect(dots('a.bc')).toBe(true)
    expect(dots('axbc')).toBe(false)
    expect(globMatcher('exact')('exact')).toBe(true)
    expect(globMatcher('exact')('exact2')).toBe(false)
  })
})

describe('hashParams', () => {
  it('is independent of object key order and stable', () => {
    expect(hashParams({ a: 1, b: { c: [1, 2], d: 'x' } })).toBe(
      hashParams({ b: { d: 'x', c: [1, 2] }, a: 1 }),
    )
    expect(hashParams({ a: 1 })).toMatch(/^[0-9a-f]{16}$/)
    expect(hashParams({ a: 1 })).toBe('015abd7f5cc57a2d')
  })

  it('distinguishes different values, array order and types', () => {
    expect(hashParams({ a: 1 })).not.toBe(hashParams({ a: 2 }))
    expect(hashParams([1, 2])).not.toBe(hashParams([2, 1]))
    expect(hashParams({ a: 1 })).not.toBe(hashParams({ a: '1' }))
  })

  it('ignores undefined properties like JSON does', () => {
    expect(hashParams({ a: 1, b: undefined })).toBe(hashParams({ a: 1 }))
  })
})

describe('defineKey', () => {
  const rackKey = defineKey('thermal:rack:{rackId}:{hash}')

  it('builds keys and patterns', () => {
    expect(rackKey({ rackId: 123, hash: 'a1b2' })).toBe('thermal:rack:123:a1b2')
    expect(rackKey.pattern({ rackId: 123 })).toBe('thermal:rack:123:*')
    expect(rackKey.pattern()).toBe('thermal:rack:*:*')
    expect(rackKey.params).toEqual(['rackId', 'hash'])
    expect(rackKey.metricPattern).toBe('thermal:rack:*')
  })

  it('refuses a missing parameter or one that breaks the alphabet, naming it', () => {
    expect(() => rackKey({ rackId: 1 } as never)).toThrow(/parameter "hash" is missing/)
    expect(() => rackKey({ rackId: 'a b', hash: 'x' })).toThrow(/parameter "rackId" = "a b"/)
    expect(() => rackKey({ rackId: 'a:b', hash: 'x' })).toThrow(/without ":"/)
    expect(() => rackKey({ rackId: '', hash: 'x' })).toThrow(/non-empty/)
  })

  it('refuses malformed templates', () => {
    expect(() => defineKey('a:{x}:{x}')).toThrow(/appears twice/)
    expect(() => defineKey('a b:{x}')).toThrow(CacheKeyError)
    expect(() => defineKey('a:{x-y}')).toThrow(/parameters are written \{name\}/)
  })
})

describe('keyPatternOf', () => {
  it.each([
    ['thermal:rack:123:a1b2c3d4', 'thermal:rack:*'],
    ['search:specs:ab12', 'search:specs:*'],
    ['user:42', 'user:*'],
    ['session', 'session'],
    ['12345', '*'],
    ['tenant42:rack:1', '*:rack:*'],
    ['device:3f2a9c1e-aaaa-bbbb-cccc-0123456789ab:info', 'device:*:*'],
  ])('%s → %s', (key, pattern) => {
    expect(keyPatternOf(key)).toBe(pattern)
  })
})
