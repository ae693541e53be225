import { describe, expect, it } from 'vitest';
import { type ApiServer, startApi } from './helpers/api.js';

const as = 'token-acme';
const JSON_PATCH = 'application/json-patch+json';
const MERGE_PATCH = 'application/merge-patch+json';

async function webhook(api: ApiServer, body: Record<string, unknown> = {}) {
  const res = await api.call('POST', '/webhooks', {
    as,
    body: {
      url: 'https://example.com/h',
      name: 'Original',
      events: ['feature-created'],
      tags: ['a'],
      ...body,
    },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret?: string; updatedAt: string };
}

const patch = (api: ApiServer, id: string, body: unknown, type = JSON_PATCH) =>
  api.call('PATCH', `/webhooks/${id}`, { as, body, type });

describe('PATCH with JSON Patch (RFC 6902)', () => {
  it('applies replace, add, remove, copy and move, validated by the dispatcher', async () => {
    const api = await startApi();
    const { id } = await webhook(api);
    const res = await patch(api, id, [
      { op: 'replace', path: '/on', value: false },
      { op: 'add', path: '/events/-', value: 'feature-archived' },
      { op: 'add', path: '/headers/X-Team', value: 'flags' },
      { op: 'remove', path: '/name' },
      { op: 'copy', from: '/tags/0', path: '/tags/-' },
      { op: 'test', path: '/url', value: 'https://example.com/h' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      on: false,
      events: ['feature-created', 'feature-archived'],
      headers: { 'X-Team': 'flags' },
      tags: ['a', 'a'],
    });
    expect(res.body).not.toHaveProperty('name');
    const saved = await api.real.webhooks.get(id);
    expect(saved?.on).toBe(false);
    expect(saved?.name).toBeUndefined();
  });

  it('answers 409 when a test operation fails, and changes nothing', async () => {
    const api = await startApi();
    const { id, updatedAt } = await webhook(api);
    const res = await patch(api, id, [
      { op: 'replace', path: '/on', value: false },
      { op: 'test', path: '/name', value: 'Someone else' },
    ]);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'ERR_PATCH_TEST_FAILED', field: '[1]' });
    const saved = await api.real.webhooks.get(id);
    expect(saved?.on).toBe(true);
    expect(saved?.updatedAt).toBe(updatedAt);
  });

  it('refuses removing a required field with 422 naming it', async () => {
    const api = await startApi();
    const { id } = await webhook(api);
    const res = await patch(api, id, [{ op: 'remove', path: '/url' }]);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'ERR_INVALID_WEBHOOK', field: 'url' });
  });

  it.each(['/id', '/createdAt', '/updatedAt', '/tenant', '/disabled'])(
    'refuses writing the read-only %s (422)',
    async (path) => {
      const api = await startApi();
      const { id } = await webhook(api);
      for (const operation of [
        { op: 'replace', path, value: 'x' },
        { op: 'add', path, value: 'x' },
        { op: 'remove', path },
      ]) {
        const res = await patch(api, id, [operation]);
        expect(res.status, JSON.stringify(operation)).toBe(422);
        expect(res.body.error.field).toBe(path.slice(1));
        expect(res.body.error.message).toContain('read-only');
      }
      // Moving a read-only member away is writing it too.
      expect((await patch(api, id, [{ op: 'move', from: path, path: '/name' }])).status).toBe(422);
      expect((await api.call('GET', `/webhooks/${id}`, { as })).body.tenant).toBe('acme');
    },
  );

  it('refuses replacing the whole document and patching through a read-only path', async () => {
    const api = await startApi();
    const { id } = await webhook(api);
    const whole = await patch(api, id, [{ op: 'replace', path: '', value: { url: 'https://evil.example' } }]);
    expect(whole.status).toBe(422);
    const nested = await patch(api, id, [{ op: 'add', path: '/disabled/reason', value: 'x' }]);
    expect(nested.status).toBe(422);
  });

  it('answers 400 for malformed patches and 422 for paths that do not resolve', async () => {
    const api = await startApi();
    const { id } = await webhook(api);
    const notArray = await patch(api, id, { op: 'replace', path: '/on', value: false });
    expect(notArray.status).toBe(400);
    expect(notArray.body.error.code).toBe('ERR_INVALID_PATCH');
    const badOp = await patch(api, id, [{ op: 'frobnicate', path: '/on' }]);
    expect(badOp.status).toBe(400);
    expect(badOp.body.error.field).toBe('[0]');
    const noValue = await patch(api, id, [{ op: 'replace', path: '/on' }]);
    expect(noValue.status).toBe(400);
    const badPointer = await patch(api, id, [{ op: 'replace', path: 'on', value: false }]);
    expect(badPointer.status).toBe(400);
    const missing = await patch(api, id, [{ op: 'remove', path: '/headers/X-None' }]);
    expect(missing.status).toBe(422);
    expect(missing.body.error).toMatchObject({ code: 'ERR_INVALID_PATCH', field: '[0]' });
    const outOfBounds = await patch(api, id, [{ op: 'add', path: '/events/7', value: 'feature-created' }]);
    expect(outOfBounds.status).toBe(422);
    const tooMany = await patch(
      api,
      id,
      Array.from({ length: 101 }, () => ({ op: 'test', path: '/on', value: true })),
    );
    expect(tooMany.status).toBe(400);
  });

  it('refuses unknown members and values the dispatcher refuses, naming the field', async () => {
    const api = await startApi();
    const { id } = await webhook(api);
    const unknown = await patch(api, id, [{ op: 'add', path: '/colour', value: 'red' }]);
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.field).toBe('colour');
    const badType = await patch(api, id, [{ op: 'replace', path: '/on', value: 'no' }]);
    expect(badType.status).toBe(422);
    expect(badType.body.error.field).toBe('on');
    const badPolicy = await patch(api, id, [
      {
        op: 'add',
        path: '/statements',
        value: [{ effect: 'allow', actions: ['*'], resources: ['proj/*:env/*;qa_*:/flag/*'] }],
      },
    ]);
    expect(badPolicy.status).toBe(422);
    expect(badPolicy.body.error).toMatchObject({ code: 'ERR_INVALID_POLICY' });
    expect(badPolicy.body.error.field).toMatch(/^statements\[0\]\.resources\[0\]/);
  });

  it('cannot reach the prototype through __proto__ paths', async () => {
    const api = await startApi();
    const { id } = await webhook(api);
    const res = await patch(api, id, [{ op: 'add', path: '/headers/__proto__/polluted', value: 'yes' }]);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('turns signing off and on through /signed, showing a generated secret once; /secret sets one', async () => {
    const api = await startApi();
    const { id } = await webhook(api, { sign: true });
    const off = await patch(api, id, [{ op: 'replace', path: '/signed', value: false }]);
    expect(off.status).toBe(200);
    expect(off.body.signed).toBe(false);
    expect(off.body).not.toHaveProperty('secret');
    expect((await api.real.webhooks.get(id))?.secret).toBeUndefined();
    const on = await patch(api, id, [{ op: 'replace', path: '/signed', value: true }]);
    expect(on.body.signed).toBe(true);
    expect(on.body.secret).toMatch(/^[0-9a-f]{64}$/);
    const set = await patch(api, id, [{ op: 'add', path: '/secret', value: 'my-own-secret' }]);
    expect(set.status).toBe(200);
    expect((await api.real.webhooks.get(id))?.secret).toBe('my-own-secret');
    const unchanged = await patch(api, id, [{ op: 'replace', path: '/name', value: 'Renamed' }]);
    expect(unchanged.body).not.toHaveProperty('secret');
  });

  it.each([
    [
      'move to another casing',
      { op: 'move', from: '/headers/Authorization', path: '/headers/authorization' },
    ],
    ['copy to another header', { op: 'copy', from: '/headers/Authorization', path: '/headers/X-Copy' }],
    ['move out of the headers', { op: 'move', from: '/headers/Authorization', path: '/name' }],
    ['move of the whole headers', { op: 'move', from: '/headers', path: '/tags' }],
  ])('refuses a redacted header value (%s) with 422, keeping the saved credential', async (_, operation) => {
    const api = await startApi();
    const { id } = await webhook(api, { headers: { Authorization: 'Bearer s3cret' } });
    const res = await patch(api, id, [operation]);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'ERR_INVALID_PATCH', field: '[0].from' });
    expect((await api.real.webhooks.get(id))?.headers).toEqual({ Authorization: 'Bearer s3cret' });
  });

  it('refuses the placeholder written to a header that has no saved value, naming the header', async () => {
    const api = await startApi();
    const { id } = await webhook(api, { headers: { Authorization: 'Bearer s3cret' } });
    const res = await patch(api, id, [{ op: 'add', path: '/headers/X-Api-Key', value: '<redacted>' }]);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'ERR_INVALID_WEBHOOK', field: 'headers.X-Api-Key' });
    expect((await api.real.webhooks.get(id))?.headers).toEqual({ Authorization: 'Bearer s3cret' });
  });

  it('carries the saved value when a merge patch renames a redacted header to another casing', async () => {
    const api = await startApi();
    const { id } = await webhook(api, { headers: { Authorization: 'Bearer s3cret' } });
    const res = await patch(
      api,
      id,
      { headers: { Authorization: null, authorization: '<redacted>' } },
      MERGE_PATCH,
    );
    expect(res.status).toBe(200);
    expect((await api.real.webhooks.get(id))?.headers).toEqual({ authorization: 'Bearer s3cret' });
  });

  it('treats a patch that changes nothing as a no-op', async () => {
    const api = await startApi();
    const { id, updatedAt } = await webhook(api);
    const res = await patch(api, id, [{ op: 'test', path: '/on', value: true }]);
    expect(res.status).toBe(200);
    expect(res.body.updatedAt).toBe(updatedAt);
  });
});

describe('PATCH with a merge patch (RFC 7386)', () => {
  it('sets members, clears with null and merges objects, as merge-patch+json and as plain JSON', async () => {
    const api = await startApi();
    const { id } = await webhook(api, { headers: { 'X-A': '1', 'X-B': '2' } });
    const res = await patch(
      api,
      id,
      { name: null, on: false, headers: { 'X-A': null, 'X-C': '3' } },
      MERGE_PATCH,
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ on: false, headers: { 'X-B': '2', 'X-C': '3' } });
    expect(res.body).not.toHaveProperty('name');
    const plain = await patch(api, id, { tags: ['x', 'y'] }, 'application/json');
    expect(plain.status).toBe(200);
    expect(plain.body.tags).toEqual(['x', 'y']);
  });

  it('switches a signed webhook to another signature scheme, with a secret that fits it shown once', async () => {
    const api = await startApi();
    const { id } = await webhook(api, { sign: true });
    const res = await patch(api, id, { signatureScheme: 'standard' }, MERGE_PATCH);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ signatureScheme: 'standard', signed: true });
    expect(res.body.secret).toMatch(/^whsec_/);
  });

  it('refuses clearing a required field and changing read-only members; equal read-only members pass', async () => {
    const api = await startApi();
    const created = await webhook(api);
    expect((await patch(api, created.id, { url: null }, MERGE_PATCH)).body.error.field).toBe('url');
    const id = await patch(api, created.id, { id: 'other' }, MERGE_PATCH);
    expect(id.status).toBe(422);
    expect(id.body.error.field).toBe('id');
    const createdAt = await patch(api, created.id, { createdAt: '2000-01-01T00:00:00.000Z' }, MERGE_PATCH);
    expect(createdAt.body.error.field).toBe('createdAt');
    const same = await patch(
      api,
      created.id,
      { id: created.id, tenant: 'acme', name: 'Same id' },
      MERGE_PATCH,
    );
    expect(same.status).toBe(200);
    expect(same.body.name).toBe('Same id');
  });

  it('refuses a merge patch that is not an object', async () => {
    const api = await startApi();
    const { id } = await webhook(api);
    expect((await patch(api, id, ['x'], MERGE_PATCH)).status).toBe(422);
    expect((await patch(api, id, 'x', MERGE_PATCH)).status).toBe(422);
  });

  it('answers 415 for other media types and 404 for a webhook that does not exist', async () => {
    const api = await startApi();
    const { id } = await webhook(api);
    const res = await api.call('PATCH', `/webhooks/${id}`, { as, raw: 'on=false', type: 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.headers.get('accept-patch')).toContain('application/json-patch+json');
    expect((await patch(api, 'nope', [{ op: 'replace', path: '/on', value: false }])).status).toBe(404);
  });
});
