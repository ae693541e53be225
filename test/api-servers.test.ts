import { once } from 'node:events';
import { createServer, request as httpRequest } from 'node:http';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Value } from '@sinclair/typebox/value';
import express from 'express';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  createOpenApiDocument,
  createWebhookApi,
  fastifyPlugin,
  openApiDocument,
  toNodeHandler,
  WebhookCreateSchema,
} from '../src/api/index.js';
import { createWebhookDispatcher } from '../src/index.js';
import { adminDispatcher } from './helpers/admin-dispatcher.js';
import { startApi } from './helpers/api.js';
import { open } from './helpers/setup.js';

const as = 'token-acme';

describe.each(['node', 'express', 'fastify'] as const)('admin API served by %s', (kind) => {
  it('runs the webhook lifecycle end to end', async () => {
    const api = await startApi(kind);
    const created = await api.call('POST', '/webhooks', {
      as,
      body: { url: 'https://example.com/a', sign: true },
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toBeTypeOf('string');
    expect(created.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const list = await api.call('GET', '/webhooks?limit=10', { as });
    expect(list.body.items.map((w: { id: string }) => w.id)).toEqual([created.body.id]);
    expect(list.text).not.toContain(created.body.secret);
    const patched = await api.call('PATCH', `/webhooks/${created.body.id}`, {
      as,
      body: [{ op: 'replace', path: '/on', value: false }],
      type: 'application/json-patch+json',
    });
    expect(patched.status).toBe(200);
    expect(patched.body.on).toBe(false);
    const merged = await api.call('PATCH', `/webhooks/${created.body.id}`, {
      as,
      body: { name: 'Merged' },
      type: 'application/merge-patch+json',
    });
    expect(merged.body.name).toBe('Merged');
    expect((await api.call('DELETE', `/webhooks/${created.body.id}`, { as })).status).toBe(204);
    expect((await api.call('GET', `/webhooks/${created.body.id}`, { as })).status).toBe(404);
  });

  it('answers the API’s own JSON errors (400, 401, 413, 415), not the framework’s', async () => {
    const api = await startApi(kind, { maxBodyBytes: 512 });
    const malformed = await api.call('POST', '/webhooks', { as, raw: '{"url"' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('ERR_MALFORMED_JSON');
    const big = await api.call('POST', '/webhooks', {
      as,
      body: { url: 'https://example.com', name: 'n'.repeat(600) },
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('ERR_BODY_TOO_LARGE');
    const text = await api.call('POST', '/webhooks', { as, raw: 'hello', type: 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('ERR_UNSUPPORTED_MEDIA_TYPE');
    expect((await api.call('GET', '/webhooks')).body.error.code).toBe('ERR_UNAUTHORIZED');
  });

  it('leaves the host’s own routes alone', async () => {
    const api = await startApi(kind, kind === 'node' ? {} : { basePath: '/hooks-api' });
    if (kind === 'node') return expect((await api.call('GET', '/host-route', { as })).status).toBe(404);
    expect((await api.call('GET', '/host-route')).body).toEqual({ host: true });
    expect(
      (await api.call('POST', '/hooks-api/webhooks', { as, body: { url: 'https://example.com' } })).status,
    ).toBe(201);
    expect((await api.call('GET', '/hooks-api/webhooks', { as })).body.items).toHaveLength(1);
  });

  it('serves the OpenAPI document', async () => {
    const api = await startApi(kind, kind === 'node' ? {} : { basePath: '/hooks-api' });
    const res = await api.call('GET', kind === 'node' ? '/openapi.json' : '/hooks-api/openapi.json', { as });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(res.body.servers).toEqual([{ url: kind === 'node' ? '/' : '/hooks-api' }]);
  });
});

// Fastify answers a method it has no route for itself (404) before the plugin sees it; the node adapter and the
// Express middleware hand every method to the API.
describe.each(['node', 'express'] as const)('admin API served by %s, unknown methods', (kind) => {
  it('answers TRACE (and any other unknown method) with 405 and the API’s code, not a 500', async () => {
    const api = await startApi(kind);
    for (const method of ['TRACE', 'PURGE', 'PROPFIND']) {
      const answer = await rawCall(method, `${api.base}/webhooks`);
      expect(answer.status, method).toBe(405);
      expect(JSON.parse(answer.text).error.code, method).toBe('ERR_METHOD_NOT_ALLOWED');
    }
  });
});

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document (checked by a real validator)', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(openApiDocument));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    const mounted = await new Validator().validate(
      createOpenApiDocument({ basePath: '/admin', title: 'Acme hooks', version: '2.0.0' }),
    );
    expect(mounted.valid).toBe(true);
  });

  it('describes every route and the error shape', () => {
    const paths = openApiDocument.paths as Record<string, Record<string, unknown>>;
    const routes = Object.entries(paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => key !== 'parameters')
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'GET /webhooks',
        'POST /webhooks',
        'GET /webhooks/{id}',
        'PATCH /webhooks/{id}',
        'DELETE /webhooks/{id}',
        'POST /webhooks/{id}/test',
        'POST /webhooks/preview',
        'POST /webhooks/{id}/rotate-secret',
        'GET /webhooks/{id}/deliveries',
        'POST /webhooks/{id}/recover',
        'GET /deliveries/{id}',
        'POST /deliveries/{id}/redeliver',
        'GET /deliveries',
        'POST /deliveries/recover',
        'GET /webhooks/{id}/stats',
        'GET /event-types',
      ].sort(),
    );
    const patch = paths['/webhooks/{id}']!.patch as { requestBody: { content: Record<string, unknown> } };
    expect(Object.keys(patch.requestBody.content)).toEqual([
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/json',
    ]);
  });

  it('carries the very schemas that validate requests', () => {
    const schemas = (openApiDocument.components as { schemas: Record<string, unknown> }).schemas;
    // The document's WebhookCreate is the validator's schema as plain JSON (refs in place of shared components).
    const fromDocument = JSON.parse(JSON.stringify(schemas.WebhookCreate));
    const validating = JSON.parse(JSON.stringify(WebhookCreateSchema));
    fromDocument.properties.statements.items = validating.properties.statements.items;
    expect(fromDocument).toEqual(validating);
    expect(schemas.Webhook).not.toHaveProperty(['properties', 'secret']);
    // A body valid per the document's schema is accepted by the validator and vice versa.
    expect(Value.Check(WebhookCreateSchema, { url: 'https://x', on: false })).toBe(true);
    expect(Value.Check(WebhookCreateSchema, { url: 'https://x', extra: 1 })).toBe(false);
  });
});

describe('the framework request reaches the tenant resolver', () => {
  it('Express: the resolver reads what the host middleware put on req', async () => {
    const real = createWebhookDispatcher({ allowPrivateNetworks: true });
    open.push(real);
    const app = express();
    app.use((req, _res, next) => {
      (req as unknown as { account?: string }).account = req.get('x-session') === 's1' ? 'acme' : undefined;
      next();
    });
    app.use(
      toNodeHandler(
        createWebhookApi({
          dispatcher: adminDispatcher(real),
          tenant: (_request, raw) => (raw as { account?: string }).account,
        }),
      ),
    );
    const server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const created = await fetch(`${base}/webhooks`, {
      method: 'POST',
      headers: { 'x-session': 's1', 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://example.com' }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { tenant: string }).tenant).toBe('acme');
    expect((await fetch(`${base}/webhooks`, { headers: { 'x-session': 's2' } })).status).toBe(401);
  });
});

describe('the Fastify request reaches the tenant resolver', () => {
  it('Fastify: the resolver reads what a host hook decorated the request with', async () => {
    const real = createWebhookDispatcher({ allowPrivateNetworks: true });
    open.push(real);
    const app = Fastify();
    app.decorateRequest('account', undefined);
    app.addHook('onRequest', async (request) => {
      (request as unknown as { account?: string }).account =
        request.headers['x-session'] === 's1' ? 'acme' : undefined;
    });
    await app.register(
      fastifyPlugin(
        createWebhookApi({
          dispatcher: adminDispatcher(real),
          tenant: (_request, raw) => (raw as { account?: string }).account,
        }),
      ),
    );
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    open.push({ close: () => app.close() });
    const created = await fetch(`${base}/webhooks`, {
      method: 'POST',
      headers: { 'x-session': 's1', 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://example.com' }),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { tenant: string }).tenant).toBe('acme');
    expect((await fetch(`${base}/webhooks`, { headers: { 'x-session': 's2' } })).status).toBe(401);
  });
});

/** A request fetch() cannot make (TRACE), sent with node:http. */
async function rawCall(method: string, url: string): Promise<{ status: number; text: string }> {
  const req = httpRequest(url, { method, headers: { authorization: `Bearer ${as}` } });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  let text = '';
  for await (const chunk of res) text += chunk;
  return { status: res.statusCode ?? 0, text };
}
