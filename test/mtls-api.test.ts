// The admin API over per-webhook client certificates and Ed25519 keys: set, cleared, described, never shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigningKeyPair, httpTransport } from '../src/index.js';
import { type ApiServer, startApi } from './helpers/api.js';
import { makeTestCa, startHttpsReceiver, type TestCa } from './helpers/test-ca.js';

let ca: TestCa;
let keyLine: string;

beforeAll(() => {
  ca = makeTestCa();
  keyLine = ca.sender.key.split('\n')[5]!;
}, 60_000);
afterAll(() => ca?.remove());

const as = 'token-acme';
const MERGE = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';

async function api(): Promise<ApiServer> {
  return startApi('node', {}, { transport: httpTransport({ ca: ca.ca, allowPrivateNetworks: true }) });
}

/** Every response text must be free of the key. */
function safe<T extends { text: string }>(response: T): T {
  expect(response.text).not.toContain(keyLine);
  expect(response.text).not.toContain('PRIVATE KEY');
  return response;
}

describe('clientCertificate through the admin API', () => {
  it('is set on POST, described on reads, sent with deliveries, cleared by a merge patch and a JSON Patch', async () => {
    const server = await api();
    const strict = await startHttpsReceiver(ca, true);
    const created = safe(
      await server.call('POST', '/webhooks', {
        as,
        body: { url: strict.url, clientCertificate: ca.sender },
      }),
    );
    expect(created.status).toBe(201);
    expect(created.body).not.toHaveProperty('clientCertificate');
    expect(created.body.certificate).toMatchObject({ subject: 'CN=webhook-sender', issuer: 'CN=test-ca' });
    expect(created.body.certificate.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(Date.parse(created.body.certificate.validTo)).toBeGreaterThan(Date.now());
    const id = created.body.id as string;
    const read = safe(await server.call('GET', `/webhooks/${id}`, { as }));
    expect(read.body.certificate).toEqual(created.body.certificate);

    const test = async () => (await server.call('POST', `/webhooks/${id}/test`, { as })).body;
    expect(await test()).toMatchObject({ ok: true });
    expect(strict.senders).toEqual(['webhook-sender']);
    safe(await server.call('GET', `/webhooks/${id}/deliveries`, { as }));
    safe(await server.call('POST', '/webhooks/preview', { as, body: { id, url: strict.url } }));

    // An unrelated merge patch keeps it; null clears it.
    const renamed = safe(
      await server.call('PATCH', `/webhooks/${id}`, { as, type: MERGE, body: { name: 'renamed' } }),
    );
    expect(renamed.body.certificate).toEqual(created.body.certificate);
    const cleared = safe(
      await server.call('PATCH', `/webhooks/${id}`, { as, type: MERGE, body: { clientCertificate: null } }),
    );
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty('certificate');
    expect(await server.real.webhooks.get(id)).not.toHaveProperty('clientCertificate');
    expect(await test()).toMatchObject({ ok: false });

    // JSON Patch: add sets it (another certificate), remove clears it.
    const added = safe(
      await server.call('PATCH', `/webhooks/${id}`, {
        as,
        type: JSON_PATCH,
        body: [{ op: 'add', path: '/clientCertificate', value: ca.second }],
      }),
    );
    expect(added.status).toBe(200);
    expect(added.body.certificate.subject).toBe('CN=second-sender');
    expect((await server.real.webhooks.get(id))?.clientCertificate).toEqual(ca.second);
    expect(await test()).toMatchObject({ ok: true });
    expect(strict.senders).toEqual(['webhook-sender', 'second-sender']);
    const removed = await server.call('PATCH', `/webhooks/${id}`, {
      as,
      type: JSON_PATCH,
      body: [{ op: 'remove', path: '/clientCertificate' }],
    });
    expect(removed.status).toBe(200);
    expect(removed.body).not.toHaveProperty('certificate');
    expect(await server.real.webhooks.get(id)).not.toHaveProperty('clientCertificate');
  });

  it('refuses a bad certificate (422 naming the member, no key echoed), a copy of the mark, and edits of `certificate`', async () => {
    const server = await api();
    const mismatched = safe(
      await server.call('POST', '/webhooks', {
        as,
        body: {
          url: 'https://example.com/h',
          clientCertificate: { cert: ca.sender.cert, key: ca.second.key },
        },
      }),
    );
    expect(mismatched.status).toBe(422);
    expect(mismatched.body.error.field).toBe('clientCertificate');
    // A key pasted in place of the object is named by its type only.
    const pasted = safe(
      await server.call('POST', '/webhooks', {
        as,
        body: { url: 'https://example.com/h', clientCertificate: ca.sender.key },
      }),
    );
    expect(pasted.status).toBe(422);
    expect(pasted.body.error.field).toBe('clientCertificate');
    const created = await server.call('POST', '/webhooks', {
      as,
      body: { url: 'https://example.com/h', clientCertificate: ca.sender },
    });
    const id = created.body.id as string;
    const notPem = safe(
      await server.call('PATCH', `/webhooks/${id}`, {
        as,
        type: MERGE,
        body: { clientCertificate: { cert: 'x', key: ca.sender.key } },
      }),
    );
    expect(notPem.status).toBe(422);
    expect(notPem.body.error.field).toBe('clientCertificate.cert');
    const copied = await server.call('PATCH', `/webhooks/${id}`, {
      as,
      type: JSON_PATCH,
      body: [{ op: 'copy', from: '/clientCertificate', path: '/name' }],
    });
    expect(copied.status).toBe(422);
    const edited = await server.call('PATCH', `/webhooks/${id}`, {
      as,
      type: MERGE,
      body: { certificate: { subject: 'CN=someone-else' } },
    });
    expect(edited.status).toBe(422);
    expect(edited.body.error.field).toBe('certificate');
    expect((await server.real.webhooks.get(id))?.clientCertificate).toEqual(ca.sender);
  });
});

describe('Ed25519 keys through the admin API', () => {
  it('shows the public key and never the whsk_ secret, on create, read, patch and rotation', async () => {
    const server = await api();
    const pair = createSigningKeyPair();
    const created = await server.call('POST', '/webhooks', {
      as,
      body: { url: 'https://example.com/h', signatureScheme: 'standard', secret: pair.secret },
    });
    expect(created.status).toBe(201);
    expect(created.body.publicKey).toBe(pair.publicKey);
    expect(created.body).not.toHaveProperty('secret');
    expect(created.text).not.toContain('whsk_');
    const id = created.body.id as string;
    const read = await server.call('GET', `/webhooks/${id}`, { as });
    expect(read.body).toMatchObject({ signed: true, publicKey: pair.publicKey });
    expect(read.text).not.toContain('whsk_');

    const rotated = await server.call('POST', `/webhooks/${id}/rotate-secret`, { as });
    expect(rotated.status).toBe(200);
    expect(rotated.body.publicKey).toMatch(/^whpk_/);
    expect(rotated.body.publicKey).not.toBe(pair.publicKey);
    expect(rotated.text).not.toContain('whsk_');
    const saved = await server.real.webhooks.get(id);
    expect(saved?.secret).toMatch(/^whsk_/);

    const next = createSigningKeyPair();
    const patched = await server.call('PATCH', `/webhooks/${id}`, {
      as,
      type: MERGE,
      body: { secret: next.secret },
    });
    expect(patched.body.publicKey).toBe(next.publicKey);
    expect(patched.text).not.toContain('whsk_');
    const forged = await server.call('PATCH', `/webhooks/${id}`, {
      as,
      type: MERGE,
      body: { publicKey: pair.publicKey },
    });
    expect(forged.status).toBe(422);
    expect(forged.body.error.field).toBe('publicKey');
  });

  it('keeps showing an HMAC secret once, in the response that made it, without a publicKey', async () => {
    const server = await api();
    const created = await server.call('POST', '/webhooks', {
      as,
      body: { url: 'https://example.com/h', signatureScheme: 'standard', sign: true },
    });
    expect(created.body.secret).toMatch(/^whsec_/);
    expect(created.body).not.toHaveProperty('publicKey');
    const read = await server.call('GET', `/webhooks/${created.body.id}`, { as });
    expect(read.body).not.toHaveProperty('secret');
    expect(read.body).not.toHaveProperty('publicKey');
  });
});
