import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * The signed envelope of a bus message, scheme `s1`:
 *
 *   s1|<signature>|<message>
 *
 * `signature` is the first 16 bytes of HMAC-SHA256(secret, `<channel>\n<message>`), base64url (22
 * characters), so the envelope head is always 26 characters. Binding the channel means a message
 * signed for one application's channel does not verify on another's that shares the secret.
 */
export const SIGNATURE_SCHEME = 's1'
/** Characters of the signature: 16 bytes in base64url, unpadded. */
const SIGNATURE_CHARS = 22
/** Length of `s1|<signature>|`: the message starts right after it. */
export const SIGNED_HEAD_LENGTH = SIGNATURE_SCHEME.length + 1 + SIGNATURE_CHARS + 1
/** Shortest secret accepted, in characters. */
export const MIN_SECRET_LENGTH = 16

/** Why an envelope was refused. */
export type SignatureRefusal = 'unsigned' | 'wrong signature'

/**
 * Signs and checks bus messages with a shared secret. Several secrets rotate: messages are signed
 * with the first and accepted under any, so pods can move to a new secret one at a time.
 */
export class BusSigner {
  private readonly secrets: readonly Buffer[]

  constructor(
    secrets: readonly string[],
    /** What a signature is bound to besides the message: the channel. */
    private readonly context: string,
  ) {
    this.secrets = secrets.map((secret) => Buffer.from(secret, 'utf8'))
  }

  /** The envelope of `message`: `s1|<signature>|<message>`. */
  seal(message: string): string {
    return `${SIGNATURE_SCHEME}|${this.signature(this.secrets[0]!, message)}|${message}`
  }

  /** The message inside a valid envelope, or why there is none. Constant time in the signature. */
  open(envelope: string): { ok: true; message: string } | { ok: false; reason: SignatureRefusal } {
    if (
      envelope.length < SIGNED_HEAD_LENGTH ||
      !envelope.startsWith(`${SIGNATURE_SCHEME}|`) ||
      envelope.charCodeAt(SIGNED_HEAD_LENGTH - 1) !== 124 /* | */
    ) {
      return { ok: false, reason: 'unsigned' }
    }
    const given = Buffer.from(envelope.slice(SIGNATURE_SCHEME.length + 1, SIGNED_HEAD_LENGTH - 1), 'utf8')
    const message = envelope.slice(SIGNED_HEAD_LENGTH)
    for (const secret of this.secrets) {
      const expected = Buffer.from(this.signature(secret, message), 'utf8')
      if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true, message }
    }
    return { ok: false, reason: 'wrong signature' }
  }

  private signature(secret: Buffer, message: string): string {
    return createHmac('sha256', secret)
      .update(this.context)
      .update('\n')
      .update(message)
      .digest()
      .subarray(0, 16)
      .toString('base64url')
  }
}
