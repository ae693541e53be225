import { describe, expect, it } from 'vitest';
import { createOpenApiDocument, createWebhookApi } from '../src/api/index.js';
import { OptionsError } from '../src/extend.js';
import { memoryStore, type WebhookStore } from '../src/index.js';
import { adminDispatcher } from './helpers/admin-dispatcher.js';
import { type ApiServer, startApi, tenantFromToken } from './helpers/api.js';

const as = 'token-acme';
const hook = { url: 'https://example.com/hooks', name: 'Prod', sign: true, events: ['feature-created'] };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function create(api: ApiServer, key: string | undefined, body: unknown = hook, token = as) {
  return api.call('POST', '/webhooks', {
    as: token,
    body,
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });
}

async function count(api: ApiServer, tenant: string | null = 'acme'): Promise<number> {
  return (await api.real.webhooks.list({ tenant })).length;
}

/** A memory store whose creates take a while, so that duplicates really overlap. */
function slowStore(ms: number): WebhookStore {
  const store = memoryStore();
  return Object.assign(Object.create(store) as WebhookStore, {
    create: async (...args: Parameters<WebhookStore['create']>) => {
      await sleep(ms);
      return store.create(...args);
    },
  });
}

describe('admin API: Idempotency-Key', () => {
  it('answers a repeated POST with the first response (same status, body, Location) and creates one webhook', async () => {
    const api = await startApi();
    const first = await create(api, 'key-1');
    const again = await create(api, 'key-1');
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.body.secret).toBe(first.body.secret);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await count(api)).toBe(1);
    // Without a key, every POST creates.
    await create(api, undefined);
    await create(api, undefined);
    expect(await count(api)).toBe(3);
  });

  it('answers 422 (the API’s error JSON) to the same key with another body or route, and creates nothing', async () => {
    const api = await startApi();
    const first = await create(api, 'key-2');
    const other = await create(api, 'key-2', { ...hook, name: 'Staging' });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('ERR_IDEMPOTENCY_KEY_REUSED');
    expect(other.body.error.message).toMatch(/Idempotency-Key/);
    const elsewhere = await api.call('POST', `/webhooks/${first.body.id}/rotate-secret`, {
      as,
      headers: { 'idempotency-key': 'key-2' },
    });
    expect(elsewhere.status).toBe(422);
    expect(await count(api)).toBe(1);
    expect((await api.real.webhooks.get(first.body.id))?.secret).toBe(first.body.secret);
  });

  it('scopes keys per tenant: another tenant with the same key and body gets its own webhook', async () => {
    const api = await startApi();
    const acme = await create(api, 'shared-key', hook, 'token-acme');
    const globex = await create(api, 'shared-key', hook, 'token-globex');
    expect(globex.status).toBe(201);
    expect(globex.body.id).not.toBe(acme.body.id);
    expect(globex.body.tenant).toBe('globex');
    expect(globex.headers.get('idempotent-replayed')).toBeNull();
    expect((await create(api, 'shared-key', hook, 'token-acme')).body.id).toBe(acme.body.id);
    expect(await count(api, 'acme')).toBe(1);
    expect(await count(api, 'globex')).toBe(1);
  });

  it('creates one webhook when duplicates race (they wait for the first and answer its response)', async () => {
    const api = await startApi('node', {}, { store: slowStore(100) });
    const answers = await Promise.all(Array.from({ length: 8 }, () => create(api, 'race')));
    expect(answers.map((answer) => answer.status)).toEqual(Array(8).fill(201));
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(answers.filter((answer) => answer.headers.get('idempotent-replayed') === 'true')).toHaveLength(7);
    expect(await count(api)).toBe(1);
  });

  it('keeps no error answer: a corrected retry with the same key runs', async () => {
    const api = await startApi();
    const bad = await create(api, 'key-3', { url: 'ftp://example.com' });
    expect(bad.status).toBe(422);
    const good = await create(api, 'key-3');
    expect(good.status).toBe(201);
    expect(good.headers.get('idempotent-replayed')).toBeNull();
    expect((await create(api, 'key-3')).headers.get('idempotent-replayed')).toBe('true');
    expect(await count(api)).toBe(1);
  });

  it('replays other POST routes too: a repeated rotate-secret rotates once', async () => {
    const api = await startApi();
    const { body } = await create(api, undefined);
    const path = `/webhooks/${body.id}/rotate-secret`;
    const first = await api.call('POST', path, { as, headers: { 'idempotency-key': 'rotate-1' } });
    const again = await api.call('POST', path, { as, headers: { 'idempotency-key': 'rotate-1' } });
    expect(first.status).toBe(200);
    expect(again.body.secret).toBe(first.body.secret);
    expect((await api.real.webhooks.get(body.id))?.secret).toBe(first.body.secret);
  });

  it('forgets a key after ttlMs', async () => {
    const api = await startApi('node', { idempotency: { ttlMs: 50 } });
    const first = await create(api, 'short');
    expect((await create(api, 'short')).headers.get('idempotent-replayed')).toBe('true');
    await sleep(80);
    const later = await create(api, 'short');
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    expect(later.body.id).not.toBe(first.body.id);
    expect(await count(api)).toBe(2);
  });

  it('is bounded: the least recently used key goes past maxEntries, and an answer over maxBytes is not kept', async () => {
    const api = await startApi('node', { idempotency: { maxEntries: 2 } });
    await create(api, 'a');
    await create(api, 'b');
    await create(api, 'a'); // a is now the most recently used
    await create(api, 'c'); // b goes
    expect(await count(api)).toBe(3);
    expect((await create(api, 'a')).headers.get('idempotent-replayed')).toBe('true');
    expect((await create(api, 'b')).headers.get('idempotent-replayed')).toBeNull();
    expect(await count(api)).toBe(4);

    const tiny = await startApi('node', { idempotency: { maxBytes: 200 } });
    await create(tiny, 'big');
    expect((await create(tiny, 'big')).headers.get('idempotent-replayed')).toBeNull();
    expect(await count(tiny)).toBe(2);
  });

  it('refuses a key that is empty, too long or not printable ASCII (400), and ignores keys with idempotency: false', async () => {
    const api = await startApi();
    for (const key of ['x'.repeat(256), 'caf\u00e9', 'a b']) {
      const answer = await create(api, key);
      expect(answer.status, key).toBe(400);
      expect(answer.body.error.code).toBe('ERR_INVALID_IDEMPOTENCY_KEY');
    }
    expect(await count(api)).toBe(0);
    const off = await startApi('node', { idempotency: false });
    await create(off, 'k');
    await create(off, 'k');
    expect(await count(off)).toBe(2);
  });

  it('validates its options and documents the header on every POST operation', async () => {
    const dispatcher = adminDispatcher((await startApi()).real);
    expect(() =>
      createWebhookApi({ dispatcher, tenant: tenantFromToken, idempotency: { ttlMs: -1 } }),
    ).toThrow(OptionsError);
    expect(() =>
      createWebhookApi({ dispatcher, tenant: tenantFromToken, idempotency: { maxEntries: 1.5 } }),
    ).toThrow(/idempotency\.maxEntries/);
    const document = createOpenApiDocument() as {
      paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
    };
    const posts = Object.values(document.paths).flatMap((item) => (item.post ? [item.post] : []));
    expect(posts.length).toBeGreaterThan(4);
    for (const post of posts) expect(post.parameters?.map((p) => p.name)).toContain('Idempotency-Key');
    const without = createOpenApiDocument({ idempotency: false }) as typeof document;
    expect(JSON.stringify(without)).not.toContain('Idempotency-Key');
  });

  it.each(['express', 'fastify'] as const)('replays through the %s adapter too', async (kind) => {
    const api = await startApi(kind);
    const first = await create(api, 'adapter');
    const again = await create(api, 'adapter');
    expect(first.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect((await create(api, 'adapter', { ...hook, name: 'Other' })).status).toBe(422);
    expect(await count(api)).toBe(1);
  });
});
