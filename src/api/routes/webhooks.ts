// The webhook resource: list, create, read, patch, delete.
import { jsonBody } from '../body.js';
import { ApiError } from '../errors.js';
import { json, pageResponse } from '../http.js';
import { BODY_ERRORS, body, ERRORS, error, ok, PAGE, ref } from '../openapi-parts.js';
import { applyJsonPatch, applyMergePatch, patchDocument, toWebhookPatch } from '../patch.js';
import { query } from '../query.js';
import type { Route } from '../route.js';
import { WebhookCreate, WebhookListQuery, WebhookMergePatch } from '../schemas.js';
import { tenantOf } from '../tenant-guard.js';
import { check } from '../validate.js';
import { shownSecret, toView } from '../view.js';
import { pageOfWebhooks } from '../webhook-pages.js';

const WEBHOOK_ID = { id: 'Webhook id.' };

export const webhookRoutes: Route[] = [
  {
    method: 'GET',
    path: '/webhooks',
    openapi: {
      operationId: 'listWebhooks',
      summary: "List the tenant's webhooks",
      parameters: PAGE,
      responses: {
        '200': ok('A page of webhooks.', 'WebhookPage'),
        '400': error('Bad query.'),
        '401': ERRORS['401'],
      },
    },
    async handle({ url, tenant, api }) {
      const { limit, cursor } = query<{ limit?: number; cursor?: string }>(url, WebhookListQuery);
      const page = pageOfWebhooks(await api.dispatcher.webhooks.list({ tenant }), limit ?? 50, cursor);
      if (page === undefined) {
        throw new ApiError(
          400,
          'ERR_INVALID_QUERY',
          'Expected `cursor` to be a `nextCursor` from an earlier page',
          {
            field: 'cursor',
          },
        );
      }
      // The dispatcher filters by tenant; this filter is the second lock on the same door.
      const items = page.items.filter((webhook) => tenantOf(webhook) === tenant).map(toView);
      return pageResponse(items, page.nextCursor);
    },
  },
  {
    method: 'POST',
    path: '/webhooks',
    openapi: {
      operationId: 'createWebhook',
      summary: 'Create a webhook',
      requestBody: body('WebhookCreate'),
      responses: {
        '201': {
          description:
            'Created; an HMAC `secret` (`whsec_…` or LaunchDarkly) is shown in this response only. An Ed25519 signing key (`whsk_…`) is never shown: `publicKey` is.',
          headers: { Location: { schema: { type: 'string' } } },
          content: { 'application/json': { schema: ref('WebhookWithSecret') } },
        },
        ...BODY_ERRORS,
        '401': ERRORS['401'],
        '409': error('Tenant limit reached.'),
      },
    },
    async handle({ request, tenant, api }) {
      const body = await jsonBody(request, api.maxBodyBytes, ['json']);
      if (body === undefined) throw new ApiError(400, 'ERR_MALFORMED_JSON', 'Expected a JSON body');
      check(WebhookCreate, body.value, { status: 422, code: 'ERR_INVALID_WEBHOOK' });
      const { tenant: claimed, ...input } = body.value as Record<string, unknown> & { url: string };
      if (claimed !== undefined && claimed !== tenant) {
        throw new ApiError(
          422,
          'ERR_INVALID_WEBHOOK',
          "Expected `tenant` to be absent or the request's own tenant: the server sets it",
          { field: 'tenant' },
        );
      }
      const { webhooks } = api.dispatcher;
      const created = await webhooks.create(tenant === null ? input : { ...input, tenant });
      if (tenantOf(created) !== tenant) {
        // A dispatcher that dropped the tenant must not leave a webhook other tenants would see.
        await webhooks.delete(created.id).catch(() => {});
        throw new ApiError(500, 'ERR_INTERNAL', 'Internal error', {
          cause: new Error('webhooks.create() did not keep the tenant'),
        });
      }
      const view = { ...toView(created), ...shownSecret(created) };
      return json(201, view, { location: `${api.basePath}/webhooks/${encodeURIComponent(created.id)}` });
    },
  },
  {
    method: 'GET',
    path: '/webhooks/:id',
    params: WEBHOOK_ID,
    openapi: {
      operationId: 'getWebhook',
      summary: 'Get a webhook',
      responses: { '200': ok('The webhook (never its secret).', 'Webhook'), ...ERRORS },
    },
    async handle({ params, tenant, api }) {
      return json(200, toView(await api.guard.webhook(params[0]!, tenant)));
    },
  },
  {
    method: 'PATCH',
    path: '/webhooks/:id',
    params: WEBHOOK_ID,
    openapi: {
      operationId: 'updateWebhook',
      summary: 'Update a webhook with a JSON Patch (RFC 6902) or a merge patch (RFC 7386)',
      requestBody: {
        required: true,
        content: {
          'application/json-patch+json': { schema: ref('JsonPatch') },
          'application/merge-patch+json': { schema: ref('WebhookMergePatch') },
          'application/json': { schema: ref('WebhookMergePatch') },
        },
      },
      responses: {
        '200': ok(
          'The updated webhook; `secret` only when this patch set or generated one.',
          'WebhookWithSecret',
        ),
        ...BODY_ERRORS,
        ...ERRORS,
        '409': error('A JSON Patch `test` operation failed.'),
      },
    },
    async handle({ request, params, tenant, api }) {
      const id = params[0]!;
      const body = await jsonBody(request, api.maxBodyBytes, ['json-patch', 'merge-patch', 'json']);
      if (body === undefined) throw new ApiError(400, 'ERR_INVALID_PATCH', 'Expected a patch body');
      const saved = await api.guard.webhook(id, tenant);
      const before = toView(saved);
      const document = patchDocument(before, saved);
      let after: unknown;
      if (body.kind === 'json-patch') {
        after = applyJsonPatch(document, body.value);
      } else {
        check(WebhookMergePatch, body.value, { status: 422, code: 'ERR_INVALID_WEBHOOK' });
        after = applyMergePatch(document, body.value);
      }
      const patch = toWebhookPatch(before, after, saved);
      if (Object.keys(patch).length === 0) return json(200, before);
      const updated = await api.dispatcher.webhooks.update(id, patch);
      const secretChanged = updated.secret !== undefined && updated.secret !== saved.secret;
      return json(200, { ...toView(updated), ...(secretChanged ? shownSecret(updated) : {}) });
    },
  },
  {
    method: 'DELETE',
    path: '/webhooks/:id',
    params: WEBHOOK_ID,
    openapi: {
      operationId: 'deleteWebhook',
      summary: 'Delete a webhook',
      responses: { '204': { description: 'Deleted.' }, ...ERRORS },
    },
    async handle({ params, tenant, api }) {
      await api.guard.webhook(params[0]!, tenant);
      await api.dispatcher.webhooks.delete(params[0]!);
      return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } });
    },
  },
];
