// Whatever arrives on the bus channel, the decoder answers (a message or a reason) and never throws;
// what it accepts is exactly what the encoder could have written.
import { validatePattern } from '@strata-cache/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBusMessage, encodeBusMessage } from '../src/bus-message.ts'
import { BusSigner } from '../src/bus-signature.ts'
import type { Invalidation } from '../src/invalidation.ts'

const keyChars = fc.constantFrom('a', 'Z', '0', ':', '_', '-', '.')
const key = fc.string({ unit: keyChars, minLength: 1, maxLength: 40 })
const pattern = fc
  .array(fc.oneof(key, fc.constantFrom('*', '?')), { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(''))
  .filter((p) => p.length <= 256 && (p.match(/[*?]/g) ?? []).length <= 16)
const invalidation: fc.Arbitrary<Invalidation> = fc.oneof(
  fc.array(key, { minLength: 1, maxLength: 5 }).map((keys) => ({ kind: 'key' as const, keys })),
  pattern.map((p) => ({ kind: 'pattern' as const, pattern: p })),
  fc.array(key, { minLength: 1, maxLength: 5 }).map((tags) => ({ kind: 'tags' as const, tags })),
  fc.constant({ kind: 'clear' as const }),
)
const instanceId = fc.string({ unit: keyChars.filter((c) => c !== ':'), minLength: 1, maxLength: 64 })

/** Text shaped like a message, field by field, with the separators and noise mixed in. */
const wireish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '1',
        '2',
        's1',
        '|',
        '~',
        ',',
        'k',
        'p',
        't',
        'c',
        '0',
        '9999999999999999',
        '*',
        '?',
        ' ',
        '',
      ),
      key,
      fc.string({ unit: 'binary', maxLength: 8 }),
    ),
    { maxLength: 14 },
  )
  .map((parts) => parts.join(''))

describe('decodeBusMessage', () => {
  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(
        fc.oneof(wireish, fc.string({ unit: 'binary', maxLength: 400 }), fc.anything()),
        (message) => {
          const decoded = decodeBusMessage(message)
          expect(typeof decoded.ok).toBe('boolean')
          if (!decoded.ok) expect(typeof decoded.reason).toBe('string')
        },
      ),
      { numRuns: 10_000 },
    )
  })

  it('accepts only what the encoder writes: a valid sender, sequence and payload', () => {
    fc.assert(
      fc.property(wireish, (message) => {
        const decoded = decodeBusMessage(message)
        if (!decoded.ok) return
        expect(encodeBusMessage(decoded.instanceId, decoded.seq, decoded.invalidation, decoded.stream)).toBe(
          message,
        )
        if (decoded.invalidation.kind === 'pattern')
          expect(() => validatePattern((decoded.invalidation as { pattern: string }).pattern)).not.toThrow()
      }),
      { numRuns: 10_000 },
    )
  })

  it('round-trips every invalidation the encoder writes', () => {
    fc.assert(
      fc.property(
        instanceId,
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        invalidation,
        fc.option(fc.integer({ min: 0, max: 9999 }), { nil: undefined }),
        (id, seq, inv, stream) => {
          const decoded = decodeBusMessage(encodeBusMessage(id, seq, inv, stream))
          expect(decoded).toEqual(
            stream === undefined
              ? { ok: true, instanceId: id, seq, invalidation: inv }
              : { ok: true, instanceId: id, stream, seq, invalidation: inv },
          )
        },
      ),
      { numRuns: 3000 },
    )
  })
})

describe('BusSigner.open', () => {
  const signer = new BusSigner(['fuzz-secret-0123456789abcdef'], 'fuzz:bus')

  it('never throws and accepts nothing it did not seal', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          wireish.map((m) => `s1|${m}`),
          fc.string({ unit: 'binary', maxLength: 300 }),
        ),
        (envelope) => {
          const opened = signer.open(envelope)
          expect(opened.ok).toBe(false)
        },
      ),
      { numRuns: 5000 },
    )
  })

  it('opens what it sealed, and refuses it once any one character changed', () => {
    fc.assert(
      fc.property(
        wireish,
        fc.nat(),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        (message, at, ch) => {
          const sealed = signer.seal(message)
          expect(signer.open(sealed)).toEqual({ ok: true, message })
          const i = at % sealed.length
          if (sealed[i] === ch) return
          const altered = `${sealed.slice(0, i)}${ch}${sealed.slice(i + 1)}`
          expect(signer.open(altered).ok).toBe(false)
        },
      ),
      { numRuns: 3000 },
    )
  })
})
