import { describe, expect, expectTypeOf, it } from 'vitest';
import { type AdminDispatcher, createWebhookApi } from '../src/api/index.js';
import { OptionsError } from '../src/extend.js';
import { UNLEASH_EVENT_TYPES, type WebhookDispatcher } from '../src/index.js';
import { startApi, tenantFromToken } from './helpers/api.js';
import { startReceiver } from './helpers/receiver.js';
import { open } from './helpers/setup.js';

const as = 'token-acme';

async function withReceiver() {
  const receiver = await startReceiver();
  open.push(receiver);
  return receiver;
}

describe('admin API: webhooks', () => {
  it('creates a webhook: 201, Location, the secret shown once, never again on reads', async () => {
    const api = await startApi();
    const created = await api.call('POST', '/webhooks', {
      as,
      body: { url: 'https://example.com/hooks', name: 'Prod', sign: true, events: ['feature-created'] },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/webhooks/${created.body.id}`);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toMatchObject({
      url: 'https://example.com/hooks',
      name: 'Prod',
      on: true,
      signed: true,
      tenant: 'acme',
      events: ['feature-created'],
    });
    expect(created.body.secret).toMatch(/^[0-9a-f]{64}$/);

    const read = await api.call('GET', `/webhooks/${created.body.id}`, { as });
    expect(read.status).toBe(200);
    expect(read.body.signed).toBe(true);
    expect(read.text).not.toContain(created.body.secret);
    expect(read.body).not.toHaveProperty('secret');
    const list = await api.call('GET', '/webhooks', { as });
    expect(list.text).not.toContain(created.body.secret);
    expect(list.text).not.toContain('previousSecrets');
  });

  it('redacts credential-like header values on reads and keeps them when written back', async () => {
    const api = await startApi();
    const { body } = await api.call('POST', '/webhooks', {
      as,
      body: {
        url: 'https://example.com/h',
        events: ['*'],
        headers: { Authorization: 'Bearer s3cret', 'X-Team': 'a' },
      },
    });
    const read = await api.call('GET', `/webhooks/${body.id}`, { as });
    expect(read.body.headers).toEqual({ Authorization: '<redacted>', 'X-Team': 'a' });
    expect(read.text).not.toContain('s3cret');
    // A merge patch of the whole representation as read (round trip) changes nothing.
    const patched = await api.call('PATCH', `/webhooks/${body.id}`, { as, body: read.body });
    expect(patched.status).toBe(200);
    expect((await api.real.webhooks.get(body.id))?.headers).toEqual({
      Authorization: 'Bearer s3cret',
      'X-Team': 'a',
    });
  });

  it('gets, lists, deletes (204) and then answers 404', async () => {
    const api = await startApi();
    const { body } = await api.call('POST', '/webhooks', { as, body: { url: 'https://example.com/a' } });
    expect((await api.call('GET', `/webhooks/${body.id}`, { as })).body.id).toBe(body.id);
    const deleted = await api.call('DELETE', `/webhooks/${body.id}`, { as });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    const gone = await api.call('GET', `/webhooks/${body.id}`, { as });
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({
      error: { code: 'ERR_WEBHOOK_NOT_FOUND', message: `No webhook with id "${body.id}"` },
    });
    expect((await api.call('DELETE', `/webhooks/${body.id}`, { as })).status).toBe(404);
  });

  it('paginates with limit and cursor, every webhook exactly once', async () => {
    const api = await startApi();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(
        (await api.call('POST', '/webhooks', { as, body: { url: `https://example.com/${i}` } })).body.id,
      );
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await api.call(
        'GET',
        `/webhooks?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { as },
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.items.map((w: { id: string }) => w.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor !== undefined && pages < 10);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=ten', 'limit'],
    ['cursor=', 'cursor'],
    ['sort=url', 'sort'],
  ])('refuses the query %s with 400 naming %s', async (q, field) => {
    const api = await startApi();
    const res = await api.call('GET', `/webhooks?${q}`, { as });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'ERR_INVALID_QUERY', field });
  });

  it.each(['bm90IGEgY3Vyc29y', '%E2%9C%93', 'W10'])(
    'refuses a cursor that is no nextCursor (%s) with 400 naming it, on both lists',
    async (cursor) => {
      const api = await startApi();
      const { body } = await api.call('POST', '/webhooks', { as, body: { url: 'https://example.com/c' } });
      for (const path of ['/webhooks', `/webhooks/${body.id}/deliveries`]) {
        const res = await api.call('GET', `${path}?cursor=${cursor}`, { as });
        expect(res.status, path).toBe(400);
        expect(res.body.error, path).toMatchObject({ code: 'ERR_INVALID_QUERY', field: 'cursor' });
      }
    },
  );

  it('refuses invalid bodies with 422 naming the field, in the library pattern', async () => {
    const api = await startApi();
    const cases: [unknown, string, RegExp][] = [
      [{}, 'url', /^Expected `url` to be a non-empty string, got nothing$/],
      [{ url: 'ftp://x' }, 'url', /^Expected `url` to be an absolute http\(s\) URL/],
      [{ url: 'https://example.com', on: 'yes' }, 'on', /^Expected `on` to be a boolean, got "yes"$/],
      [{ url: 'https://example.com', colour: 'red' }, 'colour', /^Unknown field `colour`/],
      [
        { url: 'https://example.com', statements: [{ effect: 'maybe' }] },
        'statements[0].effect',
        /one of "allow", "deny"/,
      ],
      [
        { url: 'https://example.com', statements: [{ effect: 'allow', actions: ['*'] }] },
        'statements[0]',
        /./,
      ],
      [{ url: 'https://example.com', secret: 42 }, 'secret', /got a value of type number$/],
      [{ url: 'https://example.com', bodyTemplate: '{{#a}}' }, 'bodyTemplate', /./],
    ];
    for (const [body, field, message] of cases) {
      const res = await api.call('POST', '/webhooks', { as, body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.error.field, JSON.stringify(body)).toBe(field);
      expect(res.body.error.message).toMatch(message);
      expect(res.body.error.code).toMatch(/^ERR_INVALID_(WEBHOOK|POLICY|TEMPLATE)$/);
    }
  });

  it('refuses a loopback URL (SSRF guard) with 422 on url when private networks are not allowed', async () => {
    const api = await startApi('node', {}, { allowPrivateNetworks: false });
    const res = await api.call('POST', '/webhooks', { as, body: { url: 'http://127.0.0.1:9/x' } });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'ERR_BLOCKED_ADDRESS', field: 'url' });
  });

  it('answers 409 ERR_TENANT_LIMIT past maxWebhooksPerTenant, per tenant', async () => {
    const api = await startApi('node', {}, { maxWebhooksPerTenant: 2 });
    for (let i = 0; i < 2; i++) {
      expect(
        (await api.call('POST', '/webhooks', { as, body: { url: `https://example.com/${i}` } })).status,
      ).toBe(201);
    }
    const third = await api.call('POST', '/webhooks', { as, body: { url: 'https://example.com/3' } });
    expect(third.status).toBe(409);
    expect(third.body.error.code).toBe('ERR_TENANT_LIMIT');
    expect(
      (await api.call('POST', '/webhooks', { as: 'token-globex', body: { url: 'https://example.com/g' } }))
        .status,
    ).toBe(201);
  });

  it('answers 400 for malformed JSON and invalid UTF-8, 415 for other media types, 413 past maxBodyBytes', async () => {
    const api = await startApi('node', { maxBodyBytes: 1024 });
    const malformed = await api.call('POST', '/webhooks', { as, raw: '{"url": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('ERR_MALFORMED_JSON');
    const badUtf8 = await api.call('POST', '/webhooks', { as, raw: new Uint8Array([0x7b, 0xff, 0x7d]) });
    expect(badUtf8.status).toBe(400);
    const form = await api.call('POST', '/webhooks', {
      as,
      raw: 'url=https://x',
      type: 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe('ERR_UNSUPPORTED_MEDIA_TYPE');
    const latin1 = await api.call('POST', '/webhooks', {
      as,
      raw: '{}',
      type: 'application/json; charset=iso-8859-1',
    });
    expect(latin1.status).toBe(415);
    const big = await api.call('POST', '/webhooks', {
      as,
      body: { url: 'https://example.com', name: 'x'.repeat(2000) },
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('ERR_BODY_TOO_LARGE');
    // Exactly at the limit is accepted.
    const name = 'y'.repeat(1024 - JSON.stringify({ url: 'https://example.com', name: '' }).length);
    expect(
      (await api.call('POST', '/webhooks', { as, body: { url: 'https://example.com', name } })).status,
    ).toBe(201);
    const empty = await api.call('POST', '/webhooks', { as, raw: '' });
    expect(empty.status).toBe(400);
  });

  it('answers 413 for a chunked body that grows past the limit (no Content-Length)', async () => {
    const api = await startApi('node', { maxBodyBytes: 1000 });
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 50; i++) controller.enqueue(new TextEncoder().encode(' '.repeat(100)));
        controller.close();
      },
    });
    const res = await fetch(`${api.base}/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${as}`, 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ERR_BODY_TOO_LARGE');
  });

  it('answers 404 for unknown routes, 405 with Allow for known ones, 401 without a tenant', async () => {
    const api = await startApi();
    const unknown = await api.call('GET', '/nope', { as });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('ERR_NOT_FOUND');
    const put = await api.call('PUT', '/webhooks/abc', { as, body: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, PATCH, DELETE');
    const anonymous = await api.call('GET', '/webhooks');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('ERR_UNAUTHORIZED');
    expect((await api.call('GET', '/webhooks', { as: 'token-unknown' })).status).toBe(401);
  });

  it('refuses empty POSTs a cross-site form could send (415), and takes them with JSON or the portal header', async () => {
    const api = await startApi();
    const receiver = await withReceiver();
    const { body } = await api.call('POST', '/webhooks', {
      as,
      body: { url: `${receiver.url}/f`, sign: true },
    });
    const secret = (await api.real.webhooks.get(body.id))?.secret;
    const posts = [
      `/webhooks/${body.id}/rotate-secret`,
      `/webhooks/${body.id}/test`,
      '/deliveries/msg_x/redeliver',
    ];
    const form = { authorization: `Bearer ${as}`, 'content-type': 'application/x-www-form-urlencoded' };
    for (const path of posts) {
      for (const headers of [
        form as Record<string, string>,
        { authorization: `Bearer ${as}` },
        { ...form, 'content-type': 'text/plain' },
      ]) {
        const res = await fetch(`${api.base}${path}`, { method: 'POST', headers });
        expect(res.status, `${path} ${headers['content-type']}`).toBe(415);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
          'ERR_UNSUPPORTED_MEDIA_TYPE',
        );
      }
    }
    expect(receiver.requests).toHaveLength(0);
    expect((await api.real.webhooks.get(body.id))?.secret).toBe(secret);

    const portal = { authorization: `Bearer ${as}`, 'x-requested-with': 'webhook-portal' };
    const rotate = `${api.base}/webhooks/${body.id}/rotate-secret`;
    expect((await fetch(rotate, { method: 'POST', headers: portal })).status).toBe(200);
    const json = { authorization: `Bearer ${as}`, 'content-type': 'application/json' };
    expect((await fetch(rotate, { method: 'POST', headers: json })).status).toBe(200);
  });

  it('rotates the secret: the new one shown once, different, and then signing', async () => {
    const api = await startApi();
    const receiver = await withReceiver();
    const { body } = await api.call('POST', '/webhooks', {
      as,
      body: { url: `${receiver.url}/r`, events: ['*'], sign: true },
    });
    const rotated = await api.call('POST', `/webhooks/${body.id}/rotate-secret`, { as });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(rotated.body.secret).not.toBe(body.secret);
    expect((await api.call('GET', `/webhooks/${body.id}`, { as })).text).not.toContain(rotated.body.secret);
    expect((await api.real.webhooks.get(body.id))?.secret).toBe(rotated.body.secret);
  });

  it('sends a test event and lists the delivery, then gets it by id (secrets redacted in the log)', async () => {
    const api = await startApi();
    const receiver = await withReceiver();
    const { body } = await api.call('POST', '/webhooks', {
      as,
      body: {
        url: `${receiver.url}/t`,
        events: ['feature-created'],
        sign: true,
        headers: { 'X-Api-Key': 'k-123' },
      },
    });
    const test = await api.call('POST', `/webhooks/${body.id}/test`, { as });
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({
      webhookId: body.id,
      ok: true,
      outcome: 'delivered',
      attempts: 1,
      status: 200,
    });
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]!.body).type).toBe('feature-created');

    const deliveries = await api.call('GET', `/webhooks/${body.id}/deliveries`, { as });
    expect(deliveries.status).toBe(200);
    expect(deliveries.body.items).toHaveLength(1);
    const [delivery] = deliveries.body.items;
    expect(delivery).toMatchObject({
      deliveryId: test.body.deliveryId,
      webhookId: body.id,
      status: 'delivered',
    });
    expect(delivery.attempts[0]).toMatchObject({ attempt: 1, ok: true, status: 200 });
    expect(deliveries.text).not.toContain('k-123');
    expect(deliveries.text).not.toContain(body.secret);

    const one = await api.call('GET', `/deliveries/${encodeURIComponent(test.body.deliveryId)}`, { as });
    expect(one.status).toBe(200);
    expect(one.body.deliveryId).toBe(test.body.deliveryId);
    expect((await api.call('GET', '/deliveries/msg_nope', { as })).body.error.code).toBe(
      'ERR_DELIVERY_NOT_FOUND',
    );

    const failedOnly = await api.call('GET', `/webhooks/${body.id}/deliveries?status=failed`, { as });
    expect(failedOnly.body.items).toEqual([]);
    const future = await api.call('GET', `/webhooks/${body.id}/deliveries?since=${Date.now() + 60_000}`, {
      as,
    });
    expect(future.body.items).toEqual([]);
    const iso = await api.call('GET', `/webhooks/${body.id}/deliveries?since=2020-01-01T00:00:00Z&limit=1`, {
      as,
    });
    expect(iso.body.items).toHaveLength(1);
    const bad = await api.call('GET', `/webhooks/${body.id}/deliveries?since=yesterday`, { as });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('since');
    expect(
      (await api.call('GET', `/webhooks/${body.id}/deliveries?status=ok`, { as })).body.error.field,
    ).toBe('status');
  });

  it('redelivers a delivery and recovers the failed ones of a window, for real', async () => {
    const api = await startApi();
    // The receiver fails the first request, then answers 200.
    const receiver = await startReceiver((_request, n) => (n === 0 ? 500 : 200));
    open.push(receiver);
    const { body } = await api.call('POST', '/webhooks', {
      as,
      body: { url: `${receiver.url}/t`, events: ['*'] },
    });
    const before = Date.now() - 1000;
    const test = await api.call('POST', `/webhooks/${body.id}/test`, { as });
    expect(test.body).toMatchObject({ ok: false, status: 500 });
    const deliveryId = encodeURIComponent(test.body.deliveryId);
    const failed = await api.call('GET', `/webhooks/${body.id}/deliveries?status=failed`, { as });
    expect(failed.body.items.map((d: { deliveryId: string }) => d.deliveryId)).toEqual([
      test.body.deliveryId,
    ]);

    const recovered = await api.call('POST', `/webhooks/${body.id}/recover`, {
      as,
      body: { since: new Date(before).toISOString(), until: Date.now() + 1000 },
    });
    // Accepted at once with the count; the re-send goes on through the lane and shows in the log.
    expect(recovered.status).toBe(202);
    expect(recovered.body).toEqual({ queued: 1 });
    await receiver.waitFor(2);
    let record = await api.call('GET', `/deliveries/${deliveryId}`, { as });
    for (let i = 0; record.body.status !== 'delivered' && i < 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      record = await api.call('GET', `/deliveries/${deliveryId}`, { as });
    }
    expect(receiver.requests).toHaveLength(2);
    expect(record.body.status).toBe('delivered');
    expect(record.body.attempts[0]).toMatchObject({ ok: true, redelivery: true });
    expect(record.body.attempts[0].request.body).toBe(receiver.requests[0]!.body);

    const redelivered = await api.call('POST', `/deliveries/${deliveryId}/redeliver`, {
      as,
      body: { force: true },
    });
    expect(redelivered.status).toBe(200);
    expect(redelivered.body).toMatchObject({
      deliveryId: test.body.deliveryId,
      webhookId: body.id,
      ok: true,
    });
    expect(receiver.requests).toHaveLength(3);
    // Switched off: a redelivery needs force (409 without it).
    await api.call('PATCH', `/webhooks/${body.id}`, { as, body: { on: false } });
    const off = await api.call('POST', `/deliveries/${deliveryId}/redeliver`, { as });
    expect(off.status).toBe(409);
    expect(off.body.error.code).toBe('ERR_WEBHOOK_DISABLED');
    expect(
      (await api.call('POST', `/deliveries/${deliveryId}/redeliver`, { as, body: { force: true } })).body.ok,
    ).toBe(true);

    const badForce = await api.call('POST', `/deliveries/${deliveryId}/redeliver`, {
      as,
      body: { force: 'yes' },
    });
    expect(badForce.status).toBe(422);
    expect(badForce.body.error.field).toBe('force');
    const noSince = await api.call('POST', `/webhooks/${body.id}/recover`, { as, body: {} });
    expect(noSince.status).toBe(422);
    expect(noSince.body.error.field).toBe('since');
    const badSince = await api.call('POST', `/webhooks/${body.id}/recover`, { as, body: { since: 'soon' } });
    expect(badSince.status).toBe(422);
    expect(badSince.body.error.field).toBe('since');
    expect((await api.call('POST', '/deliveries/msg_nope/redeliver', { as })).status).toBe(404);
  });

  it('serves the event catalog at /event-types, or an empty list without one', async () => {
    const withCatalog = await startApi('node', {}, { eventTypes: UNLEASH_EVENT_TYPES });
    const res = await withCatalog.call('GET', '/event-types', { as });
    expect(res.status).toBe(200);
    expect(res.body.catalog).toBe('unleash');
    expect(res.body.items).toHaveLength(177);
    expect(res.body.items.find((t: { type: string }) => t.type === 'feature-updated')).toMatchObject({
      deprecated: true,
    });
    const without = await startApi();
    expect((await without.call('GET', '/event-types', { as })).body).toEqual({ catalog: null, items: [] });
  });

  it('serves under a basePath and nothing outside it', async () => {
    const api = await startApi('node', { basePath: '/admin/hooks/' });
    const created = await api.call('POST', '/admin/hooks/webhooks', {
      as,
      body: { url: 'https://example.com' },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/admin/hooks/webhooks/${created.body.id}`);
    expect((await api.call('GET', '/webhooks', { as })).status).toBe(404);
    expect((await api.call('GET', '/admin/hooksx/webhooks', { as })).status).toBe(404);
  });

  it('serves the portal at GET / and its assets when asked; without `portal`, GET / is a 404', async () => {
    const api = await startApi('node', { portal: true });
    const page = await api.call('GET', '/', { as });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await api.call('GET', '/assets/portal.js', { as })).status).toBe(200);
    expect((await api.call('GET', '/assets/app.js', { as })).status).toBe(404);
    const without = await startApi('node');
    expect((await without.call('GET', '/', { as })).status).toBe(404);
  });
});

describe('admin API: the dispatcher seam', () => {
  it('takes the real dispatcher as it is (AdminDispatcher is the subset the API calls)', () => {
    expectTypeOf<WebhookDispatcher>().toExtend<AdminDispatcher>();
  });
});

describe('admin API: hostile resolvers and options', () => {
  it('answers 500 without the message when the resolver throws, and tells onError', async () => {
    const errors: unknown[] = [];
    const api = await startApi('node', {
      tenant: () => {
        throw new Error('db password is hunter2');
      },
      onError: (error) => {
        errors.push(error);
        throw new Error('and the hook throws too');
      },
    });
    const res = await api.call('GET', '/webhooks', { as });
    expect(res.status).toBe(500);
    expect(res.body.error).toEqual({ code: 'ERR_TENANT_RESOLVER', message: 'Internal error' });
    expect(res.text).not.toContain('hunter2');
    expect(String(errors[0])).toContain('hunter2');
  });

  it('answers 503 when the resolver hangs past tenantTimeoutMs', async () => {
    const api = await startApi('node', { tenant: () => new Promise(() => {}), tenantTimeoutMs: 50 });
    const res = await api.call('GET', '/webhooks', { as });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('ERR_TENANT_RESOLVER');
  });

  it('answers 500 when the resolver returns something that is not a tenant id', async () => {
    const api = await startApi('node', { tenant: () => 42 as unknown as string });
    expect((await api.call('GET', '/webhooks', { as })).status).toBe(500);
  });

  it('answers 500 (not a crash) when the dispatcher throws an unexpected error', async () => {
    const api = await startApi();
    const broken = createWebhookApi({
      dispatcher: {
        ...api.dispatcher,
        webhooks: {
          ...api.dispatcher.webhooks,
          list: () => Promise.reject(new TypeError('connection reset by peer 10.0.0.7')),
        },
      },
      tenant: tenantFromToken,
    });
    const res = await broken(
      new Request('http://x/webhooks', { headers: { authorization: `Bearer ${as}` } }),
    );
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain('10.0.0.7');
  });

  it('validates its options with the library pattern', () => {
    const dispatcher = {} as never;
    expect(() => createWebhookApi({ dispatcher, tenant: tenantFromToken })).toThrow(OptionsError);
    expect(() => createWebhookApi(undefined as never)).toThrow(OptionsError);
    const { dispatcher: real } = { dispatcher: { webhooks: {}, deliveries: {} } as never };
    expect(() => createWebhookApi({ dispatcher: real, tenant: 'acme' as never })).toThrow(
      /Expected `tenant` to be a function/,
    );
    expect(() => createWebhookApi({ dispatcher: real, tenant: tenantFromToken, basePath: 'api' })).toThrow(
      /`basePath`/,
    );
    expect(() => createWebhookApi({ dispatcher: real, tenant: tenantFromToken, maxBodyBytes: -1 })).toThrow(
      /`maxBodyBytes`/,
    );
  });
});
