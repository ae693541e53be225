import { describe, expect, it } from 'vitest';
import { type ApiServer, startApi } from './helpers/api.js';
import { startReceiver } from './helpers/receiver.js';
import { open } from './helpers/setup.js';

// Tokens resolve to 'acme', 'ACME', 'globex', the no-tenant scope, and to 'acme ' (trailing space) and
// 'acme\u200b' (zero-width space): ids a careless comparison (trim, lower-case, normalize) would merge with 'acme'.
// The last two are not valid tenant ids for the dispatcher, so a resolver returning them is a host bug: 500.
const LOOK_ALIKES = ['token-acme-space', 'token-acme-upper', 'token-acme-zwsp', 'token-globex', 'token-none'];
const INVALID_TENANT = new Set(['token-acme-space', 'token-acme-zwsp']);

async function acmeWebhook(api: ApiServer) {
  const receiver = await startReceiver();
  open.push(receiver);
  const created = await api.call('POST', '/webhooks', {
    as: 'token-acme',
    body: { url: `${receiver.url}/acme`, events: ['*'], sign: true, name: 'acme only' },
  });
  expect(created.status).toBe(201);
  const test = await api.call('POST', `/webhooks/${created.body.id}/test`, { as: 'token-acme' });
  expect(test.body.ok).toBe(true);
  return { id: created.body.id as string, deliveryId: test.body.deliveryId as string, receiver };
}

describe('admin API: tenant isolation', () => {
  it.each(LOOK_ALIKES)(
    "a webhook of 'acme' is out of reach on every route for %s (404; 500 for an invalid tenant id) and untouched",
    async (token) => {
      const api = await startApi();
      const { id, deliveryId, receiver } = await acmeWebhook(api);
      const before = await api.real.webhooks.get(id);
      const delivery = encodeURIComponent(deliveryId);
      const attempts = [
        await api.call('GET', `/webhooks/${id}`, { as: token }),
        await api.call('PATCH', `/webhooks/${id}`, { as: token, body: { on: false } }),
        await api.call('PATCH', `/webhooks/${id}`, {
          as: token,
          body: [{ op: 'replace', path: '/url', value: 'https://evil.example/steal' }],
          type: 'application/json-patch+json',
        }),
        await api.call('DELETE', `/webhooks/${id}`, { as: token }),
        await api.call('POST', `/webhooks/${id}/test`, { as: token }),
        await api.call('POST', `/webhooks/${id}/rotate-secret`, { as: token }),
        await api.call('GET', `/webhooks/${id}/deliveries`, { as: token }),
        await api.call('POST', `/webhooks/${id}/recover`, { as: token, body: { since: 0 } }),
        await api.call('GET', `/deliveries/${delivery}`, { as: token }),
        await api.call('POST', `/deliveries/${delivery}/redeliver`, { as: token }),
      ];
      for (const res of attempts) {
        expect(res.status).toBe(INVALID_TENANT.has(token) ? 500 : 404);
        expect(res.text).not.toContain('acme only');
        expect(res.text).not.toContain(receiver.url);
      }
      if (INVALID_TENANT.has(token)) {
        expect(attempts[0]!.body.error).toEqual({ code: 'ERR_TENANT_RESOLVER', message: 'Internal error' });
        expect(await api.real.webhooks.get(id)).toEqual(before);
        return;
      }
      // The 404 of another tenant's webhook reads exactly like that of a webhook that never existed.
      const never = await api.call('GET', '/webhooks/000000000000000000000000', { as: token });
      expect(attempts[0]!.body.error.message.replace(id, 'X')).toBe(
        never.body.error.message.replace('000000000000000000000000', 'X'),
      );
      expect(attempts[0]!.body.error.code).toBe(never.body.error.code);

      expect(await api.real.webhooks.get(id)).toEqual(before);
      expect(receiver.requests).toHaveLength(1); // only acme's own test
      expect((await api.call('GET', '/webhooks', { as: token })).body.items).toEqual([]);
      // And acme still sees it.
      expect((await api.call('GET', `/webhooks/${id}`, { as: 'token-acme' })).status).toBe(200);
    },
  );

  it('lists only the tenant’s own webhooks, across pages', async () => {
    const api = await startApi();
    for (let i = 0; i < 4; i++)
      await api.call('POST', '/webhooks', { as: 'token-acme', body: { url: `https://a.example/${i}` } });
    for (let i = 0; i < 3; i++)
      await api.call('POST', '/webhooks', { as: 'token-globex', body: { url: `https://g.example/${i}` } });
    await api.call('POST', '/webhooks', { as: 'token-acme-upper', body: { url: 'https://u.example/' } });
    const spaced = await api.call('POST', '/webhooks', {
      as: 'token-acme-space',
      body: { url: 'https://s.example/' },
    });
    expect(spaced.status).toBe(500);
    const urls = async (token: string) => {
      const out: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await api.call('GET', `/webhooks?limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
          as: token,
        });
        out.push(...page.body.items.map((w: { url: string; tenant: string }) => `${w.tenant}|${w.url}`));
        cursor = page.body.nextCursor;
      } while (cursor);
      return out.sort();
    };
    expect(await urls('token-acme')).toEqual([0, 1, 2, 3].map((i) => `acme|https://a.example/${i}`));
    expect(await urls('token-globex')).toEqual([0, 1, 2].map((i) => `globex|https://g.example/${i}`));
    expect(await urls('token-acme-upper')).toEqual(['ACME|https://u.example/']);
  });

  it('refuses a tenant in the body that differs from the request’s (422), accepts the same one', async () => {
    const api = await startApi();
    for (const tenant of ['globex', 'ACME', 'acme ', 'acme\u200b', '']) {
      const res = await api.call('POST', '/webhooks', {
        as: 'token-acme',
        body: { url: 'https://x.example', tenant },
      });
      expect(res.status, JSON.stringify(tenant)).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'ERR_INVALID_WEBHOOK', field: 'tenant' });
    }
    const wrongType = await api.call('POST', '/webhooks', {
      as: 'token-acme',
      body: { url: 'https://x.example', tenant: 7 },
    });
    expect(wrongType.status).toBe(422);
    const same = await api.call('POST', '/webhooks', {
      as: 'token-acme',
      body: { url: 'https://x.example', tenant: 'acme' },
    });
    expect(same.status).toBe(201);
    expect(same.body.tenant).toBe('acme');
    // The no-tenant scope cannot claim a tenant either.
    const none = await api.call('POST', '/webhooks', {
      as: 'token-none',
      body: { url: 'https://x.example', tenant: 'acme' },
    });
    expect(none.status).toBe(422);
    expect((await api.call('GET', '/webhooks', { as: 'token-globex' })).body.items).toEqual([]);
  });

  it('ignores tenant hints outside the resolver: headers, query, merge-patch and JSON Patch members', async () => {
    const api = await startApi();
    const { body } = await api.call('POST', '/webhooks', {
      as: 'token-globex',
      body: { url: 'https://g.example' },
      headers: { 'x-tenant': 'acme' },
    });
    expect(body.tenant).toBe('globex');
    const query = await api.call('GET', '/webhooks?tenant=acme', { as: 'token-globex' });
    expect(query.status).toBe(400);
    const merge = await api.call('PATCH', `/webhooks/${body.id}`, {
      as: 'token-globex',
      body: { tenant: 'acme' },
      type: 'application/merge-patch+json',
    });
    expect(merge.status).toBe(422);
    expect(merge.body.error.field).toBe('tenant');
    const jsonPatch = await api.call('PATCH', `/webhooks/${body.id}`, {
      as: 'token-globex',
      body: [{ op: 'replace', path: '/tenant', value: 'acme' }],
      type: 'application/json-patch+json',
    });
    expect(jsonPatch.status).toBe(422);
    expect((await api.call('GET', '/webhooks', { as: 'token-acme' })).body.items).toEqual([]);
    expect(
      (await api.real.webhooks.get(body.id)) && (await api.dispatcher.webhooks.get(body.id))?.tenant,
    ).toBe('globex');
  });

  it('the no-tenant scope (NO_TENANT) sees only webhooks without a tenant', async () => {
    const api = await startApi();
    await api.call('POST', '/webhooks', { as: 'token-acme', body: { url: 'https://a.example' } });
    const own = await api.call('POST', '/webhooks', {
      as: 'token-none',
      body: { url: 'https://internal.example' },
    });
    expect(own.status).toBe(201);
    expect(own.body).not.toHaveProperty('tenant');
    const list = await api.call('GET', '/webhooks', { as: 'token-none' });
    expect(list.body.items.map((w: { url: string }) => w.url)).toEqual(['https://internal.example/']);
    expect((await api.call('GET', `/webhooks/${own.body.id}`, { as: 'token-acme' })).status).toBe(404);
  });
});
