// Whatever a key holds in Redis (another program's data, a truncated write, a planted entry), the
// codec reads it back or refuses it with E_CORRUPT_ENTRY: nothing else is thrown, and no entry can
// make a read do unbounded work.
import { deflateRawSync } from 'node:zlib'
import {
  type CacheEntry,
  CacheError,
  JsonSerializer,
  MsgpackSerializer,
  StructuredSerializer,
} from '@strata-cache/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeEntry, decodeHeader, encodeEntry, MAX_INFLATED_BYTES } from '../src/entry-codec.ts'

const serializers = [new JsonSerializer(), new StructuredSerializer(), new MsgpackSerializer()]

/** Runs `run`; passes when it returns or throws E_CORRUPT_ENTRY, fails on anything else thrown. */
function readsOrCorrupt(run: () => unknown): void {
  try {
    run()
  } catch (error) {
    if (!CacheError.is(error, 'E_CORRUPT_ENTRY')) {
      throw new Error(`threw something else than E_CORRUPT_ENTRY: ${String(error)}`, { cause: error })
    }
  }
}

/** Headers near the real ones: magic, fields, tabs, numbers and noise. */
const headerish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'S1\t',
        'S2\t',
        '\t',
        '\n',
        '0',
        '1',
        '-1',
        '1e308',
        'NaN',
        '',
        'json',
        'structured',
        'msgpack',
        'deflate',
        'a,b',
        ',',
      ),
      fc.string({ unit: 'binary', maxLength: 6 }),
    ),
    { maxLength: 16 },
  )
  .map((parts) => parts.join(''))

const entry: fc.Arbitrary<CacheEntry> = fc
  .record({
    value: fc.jsonValue(),
    createdAt: fc.integer({ min: 0, max: 2 ** 45 }),
    ttl: fc.integer({ min: 0, max: 2 ** 40 }),
    grace: fc.integer({ min: 0, max: 2 ** 40 }),
    tags: fc.option(
      fc.array(fc.string({ unit: fc.constantFrom('a', 'b', ':'), minLength: 1, maxLength: 8 }), {
        minLength: 1,
        maxLength: 3,
      }),
      { nil: undefined },
    ),
  })
  .map(({ value, createdAt, ttl, grace, tags }) => {
    const e: CacheEntry = {
      value,
      createdAt,
      expiresAt: createdAt + ttl,
      staleUntil: createdAt + ttl + grace,
    }
    if (tags !== undefined) e.tags = tags
    return e
  })

describe('entry codec under hostile input', () => {
  it('decodeHeader never throws; decodeEntry reads or refuses with E_CORRUPT_ENTRY (text and bytes)', () => {
    fc.assert(
      fc.property(
        fc.oneof(headerish, fc.string({ unit: 'binary', maxLength: 300 })),
        fc.uint8Array({ maxLength: 300 }),
        (text, bytes) => {
          decodeHeader(text)
          decodeHeader(bytes)
          for (const serializer of serializers) {
            readsOrCorrupt(() => decodeEntry(text, serializer, 'k', 'redis'))
            readsOrCorrupt(() => decodeEntry(bytes, serializer, 'k', 'redis'))
          }
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('a valid entry with noise after its header, or cut short, or one byte changed: read or E_CORRUPT_ENTRY', () => {
    fc.assert(
      fc.property(
        entry,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        (e, at, byte, compress) => {
          for (const serializer of serializers) {
            const stored = encodeEntry(e, serializer, compress ? { thresholdBytes: 1, level: 1 } : undefined)
            const bytes = typeof stored === 'string' ? Buffer.from(stored) : Buffer.from(stored)
            readsOrCorrupt(() =>
              decodeEntry(bytes.subarray(0, at % (bytes.length + 1)), serializer, 'k', 'redis'),
            )
            const changed = Buffer.from(bytes)
            changed[at % changed.length] = byte
            readsOrCorrupt(() => decodeEntry(changed, serializer, 'k', 'redis'))
            if (typeof stored === 'string')
              readsOrCorrupt(() =>
                decodeEntry(stored.slice(0, at % (stored.length + 1)), serializer, 'k', 'redis'),
              )
          }
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('round-trips every entry it encodes', () => {
    fc.assert(
      fc.property(entry, fc.boolean(), (e, compress) => {
        const serializer = serializers[0]!
        const stored = encodeEntry(e, serializer, compress ? { thresholdBytes: 1, level: 1 } : undefined)
        const read = decodeEntry(stored, serializer, 'k', 'redis')
        expect({ ...read, tier: undefined }).toEqual({
          ...e,
          value: JSON.parse(JSON.stringify(e.value)),
          tier: undefined,
        })
      }),
      { numRuns: 1000 },
    )
  })

  it(`refuses a planted zip bomb as corrupt at ${MAX_INFLATED_BYTES / 1024 / 1024} MiB, without inflating it`, () => {
    // Zeros deflate about 1000:1: one byte past the bound is enough (a bigger bomb is refused at the same point).
    const bomb = deflateRawSync(Buffer.alloc(MAX_INFLATED_BYTES + 1), { level: 9 })
    const header = Buffer.from(
      `S2\t0\t${Date.now() + 60_000}\t${Date.now() + 60_000}\t\tjson\tdeflate\n`,
      'latin1',
    )
    const planted = Buffer.concat([header, bomb])
    expect(planted.length).toBeLessThan(100 * 1024)
    const before = process.memoryUsage().arrayBuffers
    try {
      decodeEntry(planted, serializers[0]!, 'k', 'redis')
      expect.unreachable()
    } catch (error) {
      expect(CacheError.is(error, 'E_CORRUPT_ENTRY')).toBe(true)
      expect((error as Error).message).toMatch(/cannot be inflated/)
    }
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 * MAX_INFLATED_BYTES)
  })

  it('stores a value larger than that uncompressed, so no honest entry inflates past it', () => {
    const big = 'x'.repeat(MAX_INFLATED_BYTES + 10)
    const stored = encodeEntry({ value: big, createdAt: 0, expiresAt: 1, staleUntil: 1 }, serializers[0]!, {
      thresholdBytes: 1024,
      level: 1,
    })
    expect(decodeHeader(stored)?.codec).toBe('')
  })
})
