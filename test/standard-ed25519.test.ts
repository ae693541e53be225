import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OptionsError, publicKeyOf } from '../src/extend.js';
import {
  createSigningKeyPair,
  generateStandardSecret,
  SignatureVerificationError,
  signStandardWebhook,
  verifyStandardWebhook,
  WebhookValidationError,
} from '../src/index.js';
import { nodeWebhookHandler, type VerifiedWebhook, verifyWebhook } from '../src/receiver/index.js';
import { ldEvent } from './helpers/events.js';
import type { ReceivedRequest } from './helpers/receiver.js';
import { open, setup } from './helpers/setup.js';

// The public v1a test vector of the Standard Webhooks reference library
// (standard-webhooks/standard-webhooks, libraries/go/webhook_asymmetric_test.go, TestAsymmetricWebhookSign).
const VECTOR = {
  secret: 'whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1a,tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==',
};

/** Verifies a v1a token with node:crypto alone, from the `whpk_` key's raw bytes: no code of this library. */
function cryptoVerifies(publicKey: string, request: { headers: Record<string, unknown>; body: string }) {
  const x = Buffer.from(publicKey.slice('whpk_'.length), 'base64').toString('base64url');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  const content = `${request.headers['webhook-id']}.${request.headers['webhook-timestamp']}.${request.body}`;
  const tokens = String(request.headers['webhook-signature']).split(' ');
  return tokens.some(
    (token) =>
      token.startsWith('v1a,') &&
      verify(null, Buffer.from(content), key, Buffer.from(token.slice(4), 'base64')),
  );
}

function verifyAt(request: ReceivedRequest, publicKey: string, now = Date.now()): string {
  try {
    verifyStandardWebhook({ publicKey, headers: request.headers, body: request.body, now });
    return 'valid';
  } catch (error) {
    return (error as { code: string }).code;
  }
}

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('createSigningKeyPair and publicKeyOf', () => {
  it('makes a whsk_ seed and its whpk_ public key, 32 bytes each, base64', () => {
    const pair = createSigningKeyPair();
    expect(pair.secret).toMatch(/^whsk_[A-Za-z0-9+/]{43}=$/);
    expect(pair.publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(publicKeyOf(pair.secret)).toBe(pair.publicKey);
    expect(createSigningKeyPair().secret).not.toBe(pair.secret);
  });

  it('answers no public key for HMAC secrets and malformed keys', () => {
    expect(publicKeyOf(generateStandardSecret())).toBeUndefined();
    expect(publicKeyOf('whsk_short')).toBeUndefined();
    expect(publicKeyOf(undefined)).toBeUndefined();
  });

  it('reproduces the reference library v1a test vector', () => {
    const { secret, id, timestamp, body, signature } = VECTOR;
    expect(signStandardWebhook({ secret, id, timestamp, body })).toBe(signature);
  });

  it("accepts Svix's 64-byte form (seed then public key) and refuses one whose halves do not match", () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const seed = Buffer.from(jwk.d!, 'base64url');
    const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const long = `whsk_${Buffer.concat([seed, pub]).toString('base64')}`;
    expect(publicKeyOf(long)).toBe(`whpk_${pub.toString('base64')}`);
    const wrong = `whsk_${Buffer.concat([seed, Buffer.alloc(32, 1)]).toString('base64')}`;
    expect(publicKeyOf(wrong)).toBeUndefined();
  });
});

describe('verifyStandardWebhook with a public key', () => {
  const { secret, publicKey } = createSigningKeyPair();
  const id = 'msg_1';
  const timestamp = 1_700_000_000;
  const now = timestamp * 1000;
  const body = '{"kind":"flag"}';
  const headers = {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook({ secret, id, timestamp, body }),
  };

  it('accepts the v1a signature and refuses it after one byte of the body changes', () => {
    expect(verifyStandardWebhook({ publicKey, headers, body, now })).toBe(true);
    const changed = `${body.slice(0, -2)}X}`;
    const error = thrown(() => verifyStandardWebhook({ publicKey, headers, body: changed, now }));
    expect(error).toBeInstanceOf(SignatureVerificationError);
    expect(error).toMatchObject({ code: 'ERR_SIGNATURE_INVALID' });
  });

  it("refuses another pair's public key, and a v1 signature when only a public key is given", () => {
    const other = createSigningKeyPair().publicKey;
    expect(thrown(() => verifyStandardWebhook({ publicKey: other, headers, body, now }))).toMatchObject({
      code: 'ERR_SIGNATURE_INVALID',
    });
    const v1 = signStandardWebhook({ secret: generateStandardSecret(), id, timestamp, body });
    const error = thrown(() =>
      verifyStandardWebhook({ publicKey, headers: { ...headers, 'webhook-signature': v1 }, body, now }),
    );
    expect(error.message).toContain('no v1a signature');
  });

  it('accepts any of several public keys, and v1 or v1a when given a secret and a public key', () => {
    const other = createSigningKeyPair().publicKey;
    expect(verifyStandardWebhook({ publicKey: [other, publicKey], headers, body, now })).toBe(true);
    const hmac = generateStandardSecret();
    const v1 = signStandardWebhook({ secret: hmac, id, timestamp, body });
    const both = { secret: hmac, publicKey: other, body, now };
    expect(verifyStandardWebhook({ ...both, headers: { ...headers, 'webhook-signature': v1 } })).toBe(true);
  });

  it('names the field when a key of the wrong kind is given', () => {
    const asSecret = thrown(() => verifyStandardWebhook({ secret: publicKey, headers, body, now }));
    expect(asSecret).toBeInstanceOf(OptionsError);
    expect(asSecret).toMatchObject({ field: 'secret' });
    expect(asSecret.message).toContain('pass it as `publicKey`');
    const signingKey = thrown(() => verifyStandardWebhook({ secret, headers, body, now }));
    expect(signingKey).toMatchObject({ field: 'secret' });
    expect(signingKey.message).not.toContain(secret.slice(5));
    const asPublic = thrown(() => verifyStandardWebhook({ publicKey: secret, headers, body, now }));
    expect(asPublic).toMatchObject({ field: 'publicKey' });
    expect(asPublic.message).not.toContain(secret.slice(5));
    expect(thrown(() => verifyStandardWebhook({ headers, body, now }))).toMatchObject({ field: 'secret' });
  });
});

describe("a webhook with signatureScheme 'standard' and a whsk_ secret", () => {
  it('signs v1a, verifiable with node:crypto from the public key alone, not after a body byte changes', async () => {
    const { receiver, dispatcher } = await setup();
    const { secret, publicKey } = createSigningKeyPair();
    await dispatcher.webhooks.create({ url: receiver.url, secret, signatureScheme: 'standard' });

    const [result] = await dispatcher.emit(ldEvent());

    expect(result).toMatchObject({ ok: true });
    const request = receiver.requests[0]!;
    expect(request.headers['webhook-signature']).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    expect(request.headers['x-ld-signature']).toBeUndefined();
    expect(cryptoVerifies(publicKey, request)).toBe(true);
    const tampered = { ...request, body: `${request.body.slice(0, -1)} ` };
    expect(cryptoVerifies(publicKey, tampered)).toBe(false);
    expect(verifyAt(request, publicKey)).toBe('valid');
    expect(verifyAt(request, createSigningKeyPair().publicKey)).toBe('ERR_SIGNATURE_INVALID');
  });

  it('is refused at save time with the launchdarkly and both schemes, naming the field', async () => {
    const { receiver, dispatcher } = await setup();
    const { secret } = createSigningKeyPair();
    for (const signatureScheme of ['launchdarkly', 'both', undefined] as const) {
      const saving = dispatcher.webhooks.create({ url: receiver.url, secret, signatureScheme });
      await expect(saving).rejects.toBeInstanceOf(WebhookValidationError);
      await expect(saving).rejects.toMatchObject({ field: 'secret' });
      await expect(saving).rejects.toThrow(/Ed25519 signing key/);
    }
    const hook = await dispatcher.webhooks.create({ url: receiver.url, secret, signatureScheme: 'standard' });
    await expect(dispatcher.webhooks.update(hook.id, { signatureScheme: 'both' })).rejects.toMatchObject({
      field: 'secret',
    });
    await expect(
      dispatcher.webhooks.create({ url: receiver.url, secret: 'whsk_nope', signatureScheme: 'standard' }),
    ).rejects.toMatchObject({ field: 'secret' });
  });
});

describe('rotation of an Ed25519 key', () => {
  it('signs with the old and the new key during the overlap, then with the new one only', async () => {
    let now = Date.UTC(2026, 0, 15, 12, 0, 0);
    const { receiver, dispatcher } = await setup(undefined, { now: () => now, secretRotationMs: 60_000 });
    const old = createSigningKeyPair();
    const next = createSigningKeyPair();
    const hook = await dispatcher.webhooks.create({
      url: receiver.url,
      secret: old.secret,
      signatureScheme: 'standard',
    });
    await dispatcher.webhooks.update(hook.id, { secret: next.secret });
    now += 59_000;
    await dispatcher.emit(ldEvent());
    const during = receiver.requests[0]!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(cryptoVerifies(old.publicKey, during)).toBe(true);
    expect(cryptoVerifies(next.publicKey, during)).toBe(true);

    now += 1_000;
    await dispatcher.emit(ldEvent());
    const after = receiver.requests[1]!;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(cryptoVerifies(next.publicKey, after)).toBe(true);
    expect(cryptoVerifies(old.publicKey, after)).toBe(false);
  });

  it('rotateSecret() makes a new Ed25519 key and keeps the old one signing', async () => {
    const { receiver, dispatcher } = await setup(undefined, { secretRotationMs: 60_000 });
    const old = createSigningKeyPair();
    const hook = await dispatcher.webhooks.create({
      url: receiver.url,
      secret: old.secret,
      signatureScheme: 'standard',
    });
    const rotated = await dispatcher.webhooks.rotateSecret(hook.id);
    expect(rotated.secret).toMatch(/^whsk_/);
    expect(rotated.secret).not.toBe(old.secret);

    await dispatcher.emit(ldEvent());

    const request = receiver.requests[0]!;
    expect(cryptoVerifies(publicKeyOf(rotated.secret)!, request)).toBe(true);
    expect(cryptoVerifies(old.publicKey, request)).toBe(true);
  });
});

describe('receiver middleware with a public key', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function receiverWith(publicKey: string) {
    const received: VerifiedWebhook[] = [];
    const server = createServer(
      nodeWebhookHandler<unknown, IncomingMessage, ServerResponse>(
        { publicKey, scheme: 'standard' },
        (webhook, _req, res) => {
          received.push(webhook);
          res.writeHead(204).end();
        },
      ),
    );
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received };
  }

  it('accepts what the dispatcher signs with the matching key and refuses a webhook signed by another', async () => {
    const { secret, publicKey } = createSigningKeyPair();
    const { url, received } = await receiverWith(publicKey);
    const { dispatcher } = await setup();
    const good = await dispatcher.webhooks.create({ url, secret, signatureScheme: 'standard' });
    const forged = await dispatcher.webhooks.create({
      url,
      secret: createSigningKeyPair().secret,
      signatureScheme: 'standard',
    });

    const results = await dispatcher.emit(ldEvent('production', { _id: 'evt-ed25519' }));

    const byId = new Map(results.map((r) => [r.webhookId, r]));
    expect(byId.get(good.id)).toMatchObject({ ok: true, status: 204 });
    expect(byId.get(forged.id)).toMatchObject({ ok: false, status: 401 });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ scheme: 'standard', payload: { _id: 'evt-ed25519' } });
    open.push(dispatcher);
  });

  it('refuses keys of the wrong kind when the middleware is made, naming the field', () => {
    const { secret, publicKey } = createSigningKeyPair();
    const handler = () => undefined;
    expect(() => nodeWebhookHandler({ secret: publicKey, scheme: 'standard' }, handler)).toThrow(
      expect.objectContaining({ field: 'secret' }),
    );
    expect(() => nodeWebhookHandler({ publicKey: secret, scheme: 'standard' }, handler)).toThrow(
      expect.objectContaining({ field: 'publicKey' }),
    );
    expect(() => nodeWebhookHandler({ publicKey, scheme: 'launchdarkly' }, handler)).toThrow(
      expect.objectContaining({ field: 'publicKey' }),
    );
  });

  it('verifyWebhook reads the id and timestamp of a v1a request', async () => {
    const { secret, publicKey } = createSigningKeyPair();
    const timestamp = Math.floor(Date.now() / 1000);
    const body = '{"a":1}';
    const headers = {
      'webhook-id': 'msg_x',
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signStandardWebhook({ secret, id: 'msg_x', timestamp, body }),
    };
    await expect(verifyWebhook({ headers, body }, { publicKey, scheme: 'auto' })).resolves.toMatchObject({
      scheme: 'standard',
      id: 'msg_x',
      timestamp,
      payload: { a: 1 },
    });
  });
});
