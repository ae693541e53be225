import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { kindOf, OptionsError, SignatureVerificationError } from '../core/errors.js';

const HEX_SIGNATURE = /^(?:sha256=)?([\da-f]{64})$/i;

/** @internal Throws unless `body` is the raw body (string or bytes) and `secret` a non-empty string. */
export function assertSigningInput(method: string, body: unknown, secret: unknown): void {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new OptionsError(
      'body',
      `${method}: expected \`body\` to be the raw body as a string or Uint8Array, got ${kindOf(body)}. ` +
        'Sign and verify the exact bytes sent, not a parsed object.',
    );
  }
  if (typeof secret !== 'string' || secret === '') {
    throw new OptionsError(
      'secret',
      `${method}: expected \`secret\` to be a non-empty string, got ${secret === '' ? 'an empty string' : kindOf(secret)}.`,
    );
  }
}

/**
 * Signs a body the way LaunchDarkly does for its `X-LD-Signature` header: the hex HMAC-SHA256 of the exact
 * body bytes (a string is hashed as UTF-8), keyed with the secret.
 *
 * @example signPayload('{"kind":"flag"}', secret) // '3f0c…' (64 hex characters)
 */
export function signPayload(body: string | Uint8Array, secret: string): string {
  assertSigningInput('signPayload', body, secret);
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * Checks an `X-LD-Signature` value against the raw body, in constant time. Surrounding whitespace, upper-case
 * hex and a `sha256=` prefix are tolerated. A missing or malformed signature (including the `string[]` or
 * `undefined` a Node header lookup can give) returns `false`.
 *
 * @param body The raw request body, byte for byte as received (not a re-serialized JSON object).
 * @example
 * if (!verifySignature(rawBody, req.headers['x-ld-signature'], secret)) res.writeHead(401).end();
 */
export function verifySignature(
  body: string | Uint8Array,
  signature: string | readonly string[] | null | undefined,
  secret: string,
): boolean {
  assertSigningInput('verifySignature', body, secret);
  if (typeof signature !== 'string') return false;
  const match = HEX_SIGNATURE.exec(signature.trim());
  if (match === null) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(match[1]!, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * {@link verifySignature} in the shape of `verifyStandardWebhook`: returns `true` or throws a
 * `SignatureVerificationError` whose `code` says why (`ERR_MISSING_HEADERS` when there is no signature,
 * `ERR_SIGNATURE_INVALID` when it does not match). `verifySignature` keeps its boolean answer, the shape
 * LaunchDarkly documents.
 *
 * @example
 * assertSignature(rawBody, req.headers['x-ld-signature'], secret); // throws unless signed with `secret`
 */
export function assertSignature(
  body: string | Uint8Array,
  signature: string | readonly string[] | null | undefined,
  secret: string,
): true {
  assertSigningInput('assertSignature', body, secret);
  // Node gives a repeated header as an array: one value is fine, none is missing, several are refused.
  const value = Array.isArray(signature) && signature.length <= 1 ? signature[0] : signature;
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    throw new SignatureVerificationError(
      'ERR_MISSING_HEADERS',
      'assertSignature: missing header x-ld-signature.',
    );
  }
  if (typeof value !== 'string') {
    throw new SignatureVerificationError(
      'ERR_SIGNATURE_INVALID',
      'assertSignature: x-ld-signature was sent more than once.',
    );
  }
  if (!verifySignature(body, value, secret)) {
    throw new SignatureVerificationError(
      'ERR_SIGNATURE_INVALID',
      'assertSignature: the x-ld-signature does not match the body.',
    );
  }
  return true;
}

/** A new random signing secret: 32 random bytes (256 bits), hex encoded (64 characters). */
export function generateSecret(): string {
  return randomBytes(32).toString('hex');
}
