import { describe, expect, it } from 'vitest';
import { OptionsError } from '../src/core/errors.js';
import { assertSignature, generateSecret, signPayload, verifySignature } from '../src/rendering/sign.js';

// Pinned with: printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET"
const BODY = '{"kind":"flag","name":"Dark mode","_id":"5f1e"}';
const SECRET = 'shh-its-a-secret';
const SIGNATURE = '7c6b617c80fdcbaeb7058a36d2f67b43466589d44f7be462ecd1b8da23fe936d';
const UTF8_SIGNATURE = 'c9e883e85fd62789748a989f3c42acad0030ec540ae6c2ada42ef3ad49f267f4'; // body 'héllo ✓', key 'k'
const EMPTY_BODY_SIGNATURE = 'f9e66e179b6747ae54108f82f8ade8b3c25d76fd30afde6c395822c530196169'; // '', key 'secret'

describe('signPayload', () => {
  it('matches the HMAC-SHA256 computed by openssl', () => {
    expect(signPayload(BODY, SECRET)).toBe(SIGNATURE);
    expect(signPayload('', 'secret')).toBe(EMPTY_BODY_SIGNATURE);
  });

  it('hashes strings as UTF-8 and gives the same result for the same bytes', () => {
    expect(signPayload('héllo ✓', 'k')).toBe(UTF8_SIGNATURE);
    expect(signPayload(new TextEncoder().encode('héllo ✓'), 'k')).toBe(UTF8_SIGNATURE);
    expect(signPayload(Buffer.from(BODY), SECRET)).toBe(SIGNATURE);
  });

  it('changes with the body and with the secret', () => {
    expect(signPayload(`${BODY} `, SECRET)).not.toBe(SIGNATURE);
    expect(signPayload(BODY, `${SECRET}!`)).not.toBe(SIGNATURE);
  });

  it('refuses a parsed object body and an empty secret without echoing the secret', () => {
    expect(() => signPayload({ kind: 'flag' } as unknown as string, SECRET)).toThrow(OptionsError);
    expect(() => signPayload(BODY, '')).toThrow(/non-empty string/);
    expect(() => signPayload(BODY, 42 as unknown as string)).toThrow(/got number/);
  });
});

describe('verifySignature', () => {
  it('accepts the signature of the exact body', () => {
    expect(verifySignature(BODY, SIGNATURE, SECRET)).toBe(true);
    expect(verifySignature(Buffer.from(BODY), SIGNATURE, SECRET)).toBe(true);
    expect(verifySignature(new TextEncoder().encode('héllo ✓'), UTF8_SIGNATURE, 'k')).toBe(true);
  });

  it('tolerates whitespace, upper-case hex and a sha256= prefix', () => {
    expect(verifySignature(BODY, ` ${SIGNATURE}\n`, SECRET)).toBe(true);
    expect(verifySignature(BODY, SIGNATURE.toUpperCase(), SECRET)).toBe(true);
    expect(verifySignature(BODY, `sha256=${SIGNATURE}`, SECRET)).toBe(true);
  });

  it('rejects a tampered body', () => {
    expect(verifySignature(BODY.replace('Dark', 'Lark'), SIGNATURE, SECRET)).toBe(false);
    expect(verifySignature(`${BODY}\n`, SIGNATURE, SECRET)).toBe(false);
  });

  it('rejects the wrong secret', () => {
    expect(verifySignature(BODY, SIGNATURE, 'another-secret')).toBe(false);
  });

  it('rejects a tampered, truncated or malformed signature', () => {
    const flipped = `${SIGNATURE.slice(0, -1)}${SIGNATURE.endsWith('d') ? 'e' : 'd'}`;
    expect(verifySignature(BODY, flipped, SECRET)).toBe(false);
    expect(verifySignature(BODY, SIGNATURE.slice(0, 63), SECRET)).toBe(false);
    expect(verifySignature(BODY, `${SIGNATURE}00`, SECRET)).toBe(false);
    expect(verifySignature(BODY, `${SIGNATURE.slice(0, 62)}zz`, SECRET)).toBe(false);
    expect(verifySignature(BODY, Buffer.from(SIGNATURE, 'hex').toString('base64'), SECRET)).toBe(false);
    expect(verifySignature(BODY, '', SECRET)).toBe(false);
  });

  it('returns false for a missing or repeated header instead of throwing', () => {
    expect(verifySignature(BODY, undefined, SECRET)).toBe(false);
    expect(verifySignature(BODY, null, SECRET)).toBe(false);
    expect(verifySignature(BODY, [SIGNATURE, SIGNATURE], SECRET)).toBe(false);
  });

  it('throws on a parsed object body, a common receiver mistake', () => {
    expect(() => verifySignature(JSON.parse(BODY), SIGNATURE, SECRET)).toThrow(/raw body/);
  });
});

describe('generateSecret', () => {
  it('returns 256 random bits as 64 hex characters', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^[\da-f]{64}$/);
    expect(generateSecret()).not.toBe(secret);
  });

  it('produces secrets that sign and verify', () => {
    const secret = generateSecret();
    expect(verifySignature(BODY, signPayload(BODY, secret), secret)).toBe(true);
  });
});

describe('assertSignature', () => {
  it('returns true for the signature of the exact body', () => {
    expect(assertSignature(BODY, SIGNATURE, SECRET)).toBe(true);
    expect(assertSignature(BODY, [SIGNATURE], SECRET)).toBe(true);
  });

  it('throws ERR_SIGNATURE_INVALID for a wrong or repeated signature', () => {
    expect(() => assertSignature(`${BODY} `, SIGNATURE, SECRET)).toThrow(
      expect.objectContaining({ name: 'SignatureVerificationError', code: 'ERR_SIGNATURE_INVALID' }),
    );
    expect(() => assertSignature(BODY, [SIGNATURE, SIGNATURE], SECRET)).toThrow(
      expect.objectContaining({ code: 'ERR_SIGNATURE_INVALID' }),
    );
  });

  it('throws ERR_MISSING_HEADERS without a signature', () => {
    for (const missing of [undefined, null, '', '  ', []]) {
      expect(() => assertSignature(BODY, missing, SECRET)).toThrow(
        expect.objectContaining({ code: 'ERR_MISSING_HEADERS' }),
      );
    }
  });
});
