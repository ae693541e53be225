import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { OptionsError, SignatureVerificationError } from '../src/core/errors.js';
import {
  generateStandardSecret,
  signStandardWebhook,
  standardSignatureHeader,
  verifyStandardWebhook,
} from '../src/rendering/standard-webhooks.js';

// The public test vector of the Standard Webhooks specification.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TIMESTAMP = 1614265330;
const BODY = '{"test": 2432232314}';
const SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const NOW = TIMESTAMP * 1000;

const headers = (signature = SIGNATURE, timestamp = String(TIMESTAMP)) => ({
  'webhook-id': ID,
  'webhook-timestamp': timestamp,
  'webhook-signature': signature,
});

function verifyError(run: () => unknown): SignatureVerificationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SignatureVerificationError);
    return error as SignatureVerificationError;
  }
  throw new Error('expected verification to fail');
}

describe('signStandardWebhook', () => {
  it('reproduces the public test vector', () => {
    expect(signStandardWebhook({ secret: SECRET, id: ID, timestamp: TIMESTAMP, body: BODY })).toBe(SIGNATURE);
  });

  it('accepts the secret without its whsec_ prefix, as raw key bytes, and the body as bytes', () => {
    const raw = SECRET.slice('whsec_'.length);
    expect(signStandardWebhook({ secret: raw, id: ID, timestamp: TIMESTAMP, body: BODY })).toBe(SIGNATURE);
    const key = new Uint8Array(Buffer.from(raw, 'base64'));
    expect(signStandardWebhook({ secret: key, id: ID, timestamp: TIMESTAMP, body: BODY })).toBe(SIGNATURE);
    const bytes = new TextEncoder().encode(BODY);
    expect(signStandardWebhook({ secret: SECRET, id: ID, timestamp: TIMESTAMP, body: bytes })).toBe(
      SIGNATURE,
    );
  });

  it('refuses a secret that is not base64 without echoing it', () => {
    let error: unknown;
    try {
      signStandardWebhook({ secret: 'whsec_not base64!', id: ID, timestamp: TIMESTAMP, body: BODY });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as Error).message).not.toContain('not base64!');
  });

  it('refuses a fractional, negative, NaN or millisecond timestamp and an empty id', () => {
    for (const timestamp of [1.5, -1, Number.NaN, NOW]) {
      expect(() => signStandardWebhook({ secret: SECRET, id: ID, timestamp, body: BODY })).toThrow(
        OptionsError,
      );
    }
    expect(() => signStandardWebhook({ secret: SECRET, id: '', timestamp: TIMESTAMP, body: BODY })).toThrow(
      OptionsError,
    );
  });
});

describe('verifyStandardWebhook', () => {
  it('accepts the public test vector', () => {
    expect(verifyStandardWebhook({ secret: SECRET, headers: headers(), body: BODY, now: NOW })).toBe(true);
  });

  it('reads a Headers instance and Node IncomingHttpHeaders', () => {
    const web = new Headers(headers());
    expect(verifyStandardWebhook({ secret: SECRET, headers: web, body: BODY, now: NOW })).toBe(true);
    const node: IncomingHttpHeaders = { ...headers(), 'content-type': 'application/json' };
    expect(verifyStandardWebhook({ secret: SECRET, headers: node, body: Buffer.from(BODY), now: NOW })).toBe(
      true,
    );
  });

  it('reads header names in any letter case', () => {
    const mixed = {
      'Webhook-Id': ID,
      'WEBHOOK-TIMESTAMP': String(TIMESTAMP),
      'Webhook-Signature': SIGNATURE,
    };
    expect(verifyStandardWebhook({ secret: SECRET, headers: mixed, body: BODY, now: NOW })).toBe(true);
  });

  it('rejects a tampered body', () => {
    const error = verifyError(() =>
      verifyStandardWebhook({ secret: SECRET, headers: headers(), body: '{"test": 2432232315}', now: NOW }),
    );
    expect(error.code).toBe('ERR_SIGNATURE_INVALID');
  });

  it('rejects a tampered id or timestamp header', () => {
    const otherId = { ...headers(), 'webhook-id': 'msg_other' };
    expect(
      verifyError(() => verifyStandardWebhook({ secret: SECRET, headers: otherId, body: BODY, now: NOW }))
        .code,
    ).toBe('ERR_SIGNATURE_INVALID');
    const otherTime = headers(SIGNATURE, String(TIMESTAMP + 1));
    expect(
      verifyError(() => verifyStandardWebhook({ secret: SECRET, headers: otherTime, body: BODY, now: NOW }))
        .code,
    ).toBe('ERR_SIGNATURE_INVALID');
  });

  it('rejects the wrong secret', () => {
    const error = verifyError(() =>
      verifyStandardWebhook({ secret: generateStandardSecret(), headers: headers(), body: BODY, now: NOW }),
    );
    expect(error.code).toBe('ERR_SIGNATURE_INVALID');
  });

  it('accepts timestamps up to 5 minutes old or ahead', () => {
    expect(
      verifyStandardWebhook({ secret: SECRET, headers: headers(), body: BODY, now: NOW + 300_000 }),
    ).toBe(true);
    expect(
      verifyStandardWebhook({ secret: SECRET, headers: headers(), body: BODY, now: NOW - 300_000 }),
    ).toBe(true);
  });

  it('rejects a stale timestamp', () => {
    const error = verifyError(() =>
      verifyStandardWebhook({ secret: SECRET, headers: headers(), body: BODY, now: NOW + 301_000 }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_OUT_OF_TOLERANCE');
    expect(error.message).toMatch(/old/);
  });

  it('rejects a timestamp from the future', () => {
    const error = verifyError(() =>
      verifyStandardWebhook({ secret: SECRET, headers: headers(), body: BODY, now: NOW - 301_000 }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_OUT_OF_TOLERANCE');
    expect(error.message).toMatch(/ahead/);
  });

  it('uses the current time by default', () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const fresh = signStandardWebhook({ secret: SECRET, id: ID, timestamp, body: BODY });
    expect(
      verifyStandardWebhook({ secret: SECRET, headers: headers(fresh, String(timestamp)), body: BODY }),
    ).toBe(true);
    const error = verifyError(() =>
      verifyStandardWebhook({ secret: SECRET, headers: headers(), body: BODY }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_OUT_OF_TOLERANCE');
  });

  it('honours a custom tolerance', () => {
    const error = verifyError(() =>
      verifyStandardWebhook({
        secret: SECRET,
        headers: headers(),
        body: BODY,
        now: NOW + 61_000,
        toleranceSeconds: 60,
      }),
    );
    expect(error.code).toBe('ERR_TIMESTAMP_OUT_OF_TOLERANCE');
  });

  it('rejects a timestamp that is not an integer', () => {
    const error = verifyError(() =>
      verifyStandardWebhook({
        secret: SECRET,
        headers: headers(SIGNATURE, '1614265330.5'),
        body: BODY,
        now: NOW,
      }),
    );
    expect(error.code).toBe('ERR_SIGNATURE_INVALID');
  });

  it('ignores unknown versions and fails when only unknown versions are present', () => {
    const onlyUnknown = `v2,${SIGNATURE.slice(3)} v1a,${SIGNATURE.slice(3)}`;
    const error = verifyError(() =>
      verifyStandardWebhook({ secret: SECRET, headers: headers(onlyUnknown), body: BODY, now: NOW }),
    );
    expect(error.code).toBe('ERR_SIGNATURE_INVALID');
    expect(error.message).toMatch(/no v1 signature/);
    const mixed = `v2,whatever ${SIGNATURE}`;
    expect(verifyStandardWebhook({ secret: SECRET, headers: headers(mixed), body: BODY, now: NOW })).toBe(
      true,
    );
  });

  it('accepts any of several space-separated signatures', () => {
    const other = signStandardWebhook({
      secret: generateStandardSecret(),
      id: ID,
      timestamp: TIMESTAMP,
      body: BODY,
    });
    for (const list of [`${other} ${SIGNATURE}`, `${SIGNATURE} ${other}`, `  ${other}   ${SIGNATURE}  `]) {
      expect(verifyStandardWebhook({ secret: SECRET, headers: headers(list), body: BODY, now: NOW })).toBe(
        true,
      );
    }
    expect(
      verifyError(() =>
        verifyStandardWebhook({ secret: SECRET, headers: headers(other), body: BODY, now: NOW }),
      ).code,
    ).toBe('ERR_SIGNATURE_INVALID');
  });

  it('accepts repeated signature headers as Node and fetch combine them', () => {
    const other = signStandardWebhook({
      secret: generateStandardSecret(),
      id: ID,
      timestamp: TIMESTAMP,
      body: BODY,
    });
    const node = { ...headers(), 'webhook-signature': [other, SIGNATURE] };
    expect(verifyStandardWebhook({ secret: SECRET, headers: node, body: BODY, now: NOW })).toBe(true);
    const web = new Headers(headers(other));
    web.append('webhook-signature', SIGNATURE);
    expect(verifyStandardWebhook({ secret: SECRET, headers: web, body: BODY, now: NOW })).toBe(true);
  });

  it('rejects a signature that differs in one character or in length', () => {
    const flipped = `${SIGNATURE.slice(0, 5)}${SIGNATURE[5] === 'A' ? 'B' : 'A'}${SIGNATURE.slice(6)}`;
    for (const bad of [flipped, SIGNATURE.slice(0, -1), `${SIGNATURE}=`]) {
      expect(
        verifyError(() =>
          verifyStandardWebhook({ secret: SECRET, headers: headers(bad), body: BODY, now: NOW }),
        ).code,
      ).toBe('ERR_SIGNATURE_INVALID');
    }
  });

  it('names every missing header', () => {
    const error = verifyError(() =>
      verifyStandardWebhook({ secret: SECRET, headers: { 'webhook-id': ID }, body: BODY, now: NOW }),
    );
    expect(error.code).toBe('ERR_MISSING_HEADERS');
    expect(error.message).toContain('webhook-timestamp, webhook-signature');
    const empty = { ...headers(), 'webhook-signature': '' };
    expect(
      verifyError(() => verifyStandardWebhook({ secret: SECRET, headers: empty, body: BODY, now: NOW })).code,
    ).toBe('ERR_MISSING_HEADERS');
    expect(
      verifyError(() =>
        verifyStandardWebhook({ secret: SECRET, headers: new Headers(), body: BODY, now: NOW }),
      ).code,
    ).toBe('ERR_MISSING_HEADERS');
  });

  it('never puts the secret in an error message', () => {
    const error = verifyError(() =>
      verifyStandardWebhook({ secret: SECRET, headers: headers(), body: 'tampered', now: NOW }),
    );
    expect(error.message).not.toContain(SECRET.slice(6));
  });
});

describe('verifyStandardWebhook options', () => {
  const yearOld = NOW + 365 * 86_400_000;

  it.each([
    ['NaN', Number.NaN],
    ['a string', '300'],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['negative', -1],
  ])('refuses a %s toleranceSeconds instead of accepting a year-old request', (_, toleranceSeconds) => {
    expect(() =>
      verifyStandardWebhook({
        secret: SECRET,
        headers: headers(),
        body: BODY,
        now: yearOld,
        toleranceSeconds: toleranceSeconds as number,
      }),
    ).toThrow(expect.objectContaining({ name: 'OptionsError', field: 'toleranceSeconds' }));
  });

  it.each([
    ['NaN', Number.NaN],
    ['a string', String(NOW)],
    ['null', null],
  ])('refuses a %s now', (_, now) => {
    expect(() =>
      verifyStandardWebhook({ secret: SECRET, headers: headers(), body: BODY, now: now as number }),
    ).toThrow(expect.objectContaining({ name: 'OptionsError', field: 'now' }));
  });

  it('names the field in the usual message pattern', () => {
    expect(() =>
      verifyStandardWebhook({ secret: SECRET, headers: headers(), body: BODY, toleranceSeconds: Number.NaN }),
    ).toThrow(/^Expected `toleranceSeconds` to be a non-negative number .*got NaN/);
  });
});

describe('svix- header names', () => {
  const svix = (signature = SIGNATURE) => ({
    'svix-id': ID,
    'svix-timestamp': String(TIMESTAMP),
    'svix-signature': signature,
  });

  it('accepts svix-id, svix-timestamp and svix-signature', () => {
    expect(verifyStandardWebhook({ secret: SECRET, headers: svix(), body: BODY, now: NOW })).toBe(true);
    expect(
      verifyStandardWebhook({ secret: SECRET, headers: new Headers(svix()), body: BODY, now: NOW }),
    ).toBe(true);
  });

  it('still checks the signature and the window under svix- names', () => {
    const bad = svix('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=');
    expect(
      verifyError(() => verifyStandardWebhook({ secret: SECRET, headers: bad, body: BODY, now: NOW })).code,
    ).toBe('ERR_SIGNATURE_INVALID');
    expect(
      verifyError(() =>
        verifyStandardWebhook({ secret: SECRET, headers: svix(), body: BODY, now: NOW + 301_000 }),
      ).code,
    ).toBe('ERR_TIMESTAMP_OUT_OF_TOLERANCE');
  });
});

describe('secret rotation', () => {
  const oldSecret = SECRET;
  const newSecret = generateStandardSecret();

  it('signs with every secret, space-separated, the old one reproducing the vector', () => {
    const header = standardSignatureHeader([oldSecret, newSecret], ID, TIMESTAMP, BODY);
    const parts = header.split(' ');
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe(SIGNATURE);
    expect(parts[1]).toBe(
      signStandardWebhook({ secret: newSecret, id: ID, timestamp: TIMESTAMP, body: BODY }),
    );
  });

  it('lets receivers holding either secret verify during the rotation', () => {
    const header = standardSignatureHeader([oldSecret, newSecret], ID, TIMESTAMP, BODY);
    for (const secret of [oldSecret, newSecret]) {
      expect(verifyStandardWebhook({ secret, headers: headers(header), body: BODY, now: NOW })).toBe(true);
    }
  });

  it('verifies against a list of secrets, any of which may match', () => {
    const signedWithNew = signStandardWebhook({
      secret: newSecret,
      id: ID,
      timestamp: TIMESTAMP,
      body: BODY,
    });
    const secrets = [oldSecret, newSecret];
    expect(
      verifyStandardWebhook({ secret: secrets, headers: headers(signedWithNew), body: BODY, now: NOW }),
    ).toBe(true);
    expect(verifyStandardWebhook({ secret: secrets, headers: headers(), body: BODY, now: NOW })).toBe(true);
    const stranger = generateStandardSecret();
    expect(
      verifyError(() =>
        verifyStandardWebhook({ secret: [stranger], headers: headers(signedWithNew), body: BODY, now: NOW }),
      ).code,
    ).toBe('ERR_SIGNATURE_INVALID');
  });

  it('refuses an empty list of secrets', () => {
    expect(() => standardSignatureHeader([], ID, TIMESTAMP, BODY)).toThrow(OptionsError);
    expect(() => verifyStandardWebhook({ secret: [], headers: headers(), body: BODY, now: NOW })).toThrow(
      OptionsError,
    );
  });
});

describe('generateStandardSecret', () => {
  it('returns whsec_ and the base64 of 32 random bytes', () => {
    const secret = generateStandardSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z\d+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateStandardSecret()).not.toBe(secret);
  });
});
