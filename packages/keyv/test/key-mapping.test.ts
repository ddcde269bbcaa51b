import { MAX_KEY_LENGTH, validateKey } from '@strata-cache/core'
import { describe, expect, it } from 'vitest'
import { hashSegment, NO_NAMESPACE, namespacePattern, toCacheKey } from '../src/key-mapping.ts'

const HASHED = /^\.[A-Za-z0-9_-]{43}$/

describe('toCacheKey', () => {
  it('keeps what the key schema allows readable: {prefix}{namespace}:{key}', () => {
    expect(toCacheKey('keyv:', 'keyv', 'keyv:user:42')).toBe('keyv:keyv:user:42')
    expect(toCacheKey('app:kv:', 'sessions', 'sessions:a-b_c.d')).toBe('app:kv:sessions:a-b_c.d')
    expect(toCacheKey('keyv:', undefined, 'user:42')).toBe(`keyv:${NO_NAMESPACE}:user:42`)
    expect(toCacheKey('keyv:', '', 'user:42')).toBe(`keyv:${NO_NAMESPACE}:user:42`)
  })

  it('hashes a key part the schema refuses, and stays a valid key', () => {
    for (const key of ["'", 'a b', 'ünïcödé', '日本語', '\u0000', '', '*', 'a?', 'x'.repeat(1000), ':lead']) {
      const cacheKey = toCacheKey('keyv:', 'keyv', `keyv:${key}`)
      const [, , keyPart] = /^keyv:(keyv):(.*)$/.exec(cacheKey) ?? []
      expect(keyPart, key).toMatch(HASHED)
      expect(() => validateKey(cacheKey)).not.toThrow()
    }
  })

  it('hashes a namespace that is not key characters without ":", or longer than 64', () => {
    for (const namespace of ['my app', 'a:b', 'x'.repeat(65), '_private', 'ns*']) {
      const cacheKey = toCacheKey('keyv:', namespace, `${namespace}:foo`)
      expect(cacheKey).toMatch(/^keyv:\.[A-Za-z0-9_-]{43}:foo$/)
      expect(namespacePattern('keyv:', namespace)).toBe(`${cacheKey.slice(0, -'foo'.length)}*`)
    }
    expect(toCacheKey('keyv:', 'x'.repeat(64), `${'x'.repeat(64)}:foo`)).toBe(`keyv:${'x'.repeat(64)}:foo`)
  })

  it('hashes a readable key that would take the whole key past 256 characters', () => {
    const fits = 'k'.repeat(MAX_KEY_LENGTH - 'keyv:keyv:'.length)
    expect(toCacheKey('keyv:', 'keyv', `keyv:${fits}`)).toBe(`keyv:keyv:${fits}`)
    expect(toCacheKey('keyv:', 'keyv', `keyv:${fits}k`)).toMatch(/^keyv:keyv:\.[A-Za-z0-9_-]{43}$/)
  })

  it("puts keys Keyv passed without its namespace prefix (useKeyPrefix: false) under '_'", () => {
    expect(toCacheKey('keyv:', 'keyv', 'foo')).toBe('keyv:keyv:_foo')
    expect(toCacheKey('keyv:', 'keyv', 'a b')).toMatch(/^keyv:keyv:_\.[A-Za-z0-9_-]{43}$/)
  })

  it('never maps two different (namespace, key) pairs to one key', () => {
    const namespaces = [undefined, 'keyv', 'keyv1', 'keyv:1', 'a', 'ab', 'my app', '.', '_']
    const parts = [
      '',
      'a',
      'A',
      '.a',
      '_a',
      ':a',
      'a:b',
      "'",
      '\uD800', // a lone surrogate: UTF-8 would turn it into U+FFFD
      '\uFFFD',
      'e\u0301',
      '\u00E9',
      'x'.repeat(300),
      `${'x'.repeat(299)}y`,
      hashSegment('a b'), // the hashed form of another key, given as a key
      hashSegment('a b').slice(1),
      `_${hashSegment('a b')}`,
    ]
    const seen = new Map<string, string>()
    for (const namespace of namespaces) {
      const keys = new Set(parts.flatMap((part) => [part, `${namespace}:${part}`, `keyv:${part}`]))
      for (const key of keys) {
        const cacheKey = toCacheKey('keyv:', namespace, key)
        expect(() => validateKey(cacheKey)).not.toThrow()
        const pair = JSON.stringify([namespace ?? null, key])
        const other = seen.get(cacheKey)
        if (other !== undefined) expect(other, `${pair} and ${other} share ${cacheKey}`).toBe(pair)
        seen.set(cacheKey, pair)
      }
    }
    expect(seen.size).toBeGreaterThan(400)
  })
})

describe('hashSegment', () => {
  it('is 44 characters: "." and 256 bits of SHA-256 in base64url', () => {
    expect(hashSegment('anything')).toMatch(HASHED)
    expect(hashSegment('\uD800')).not.toBe(hashSegment('\uFFFD'))
  })
})

describe('namespacePattern', () => {
  it('ends right after the namespace segment, so keyv1 never reaches keyv10', () => {
    expect(namespacePattern('keyv:', 'keyv1')).toBe('keyv:keyv1:*')
    expect(namespacePattern('keyv:', undefined)).toBe('keyv:.:*')
  })
})
