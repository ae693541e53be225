// What can be done with a webhook besides editing it: preview, test, rotate its secret, read and recover deliveries.
import type { WebhookEvent, WebhookInput } from '../../core/types.js';
import { isSensitiveHeader } from '../../rendering/sensitive-headers.js';
import { jsonBody } from '../body.js';
import { toDeliveryView } from '../delivery-view.js';
import { ApiError } from '../errors.js';
import { json, pageResponse } from '../http.js';
import { BODY_ERRORS, body, ERRORS, error, ok, PAGE, queryParameter } from '../openapi-parts.js';
import { restoreRedacted } from '../patch.js';
import { pageAt, query, timeOf } from '../query.js';
import type { Route, RouteContext } from '../route.js';
import { DeliveryListQuery, RecoverBody, WebhookCreate } from '../schemas.js';
import { check } from '../validate.js';
import { REDACTED, type StoredWebhook, savedInput, shownSecret, toView } from '../view.js';

const WEBHOOK_ID = { id: 'Webhook id.' };
/** Signatures are derived values, not credentials: a preview shows them. */
const SIGNATURE_HEADERS = new Set(['x-ld-signature', 'webhook-signature']);

/** A `<redacted>` header value from a read stands for the saved value. */
function keepRedacted(fields: Record<string, unknown>, saved: StoredWebhook): Record<string, unknown> {
  const headers = fields.headers as Record<string, unknown> | undefined;
  if (headers === undefined || headers === null || typeof headers !== 'object') return fields;
  return { ...fields, headers: restoreRedacted(headers, saved.headers) };
}

/**
 * The live preview of a form: the exact request a webhook configured so would get, validated like a save (422 with
 * the field, and the position for a policy), nothing saved. `id` previews an edit of a saved one.
 */
async function preview({ request, tenant, api }: RouteContext): Promise<Response> {
  const body = await jsonBody(request, api.maxBodyBytes, ['json']);
  if (body === undefined) throw new ApiError(400, 'ERR_MALFORMED_JSON', 'Expected a JSON body');
  const value = body.value as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError(422, 'ERR_INVALID_WEBHOOK', 'Expected the body to be a webhook');
  }
  const { id, event, tenant: claimed, ...fields } = value;
  if (claimed !== undefined && claimed !== tenant) {
    throw new ApiError(
      422,
      'ERR_INVALID_WEBHOOK',
      "Expected `tenant` to be absent or the request's own tenant",
      {
        field: 'tenant',
      },
    );
  }
  let input: Record<string, unknown> = fields;
  if (id !== undefined) {
    if (typeof id !== 'string')
      throw new ApiError(422, 'ERR_INVALID_WEBHOOK', 'Expected `id` to be a string', { field: 'id' });
    const saved = await api.guard.webhook(id, tenant);
    input = { ...savedInput(saved), ...keepRedacted(fields, saved) };
  } else {
    check(WebhookCreate, fields, { status: 422, code: 'ERR_INVALID_WEBHOOK' });
  }
  if (event !== undefined && (typeof event !== 'object' || event === null || Array.isArray(event))) {
    throw new ApiError(422, 'ERR_INVALID_EVENT', 'Expected `event` to be an object', { field: 'event' });
  }
  const previewed = await api.dispatcher.preview(
    (tenant === null ? input : { ...input, tenant }) as unknown as WebhookInput,
    event as WebhookEvent | undefined,
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(previewed.headers)) {
    headers[name] = isSensitiveHeader(name) && !SIGNATURE_HEADERS.has(name) ? REDACTED : value;
  }
  return json(200, { url: previewed.url, method: previewed.method, headers, body: previewed.body });
}

async function listDeliveries({ url, params, tenant, api }: RouteContext): Promise<Response> {
  const q = query<{
    status?: 'delivered' | 'failed';
    since?: string;
    until?: string;
    limit?: number;
    cursor?: string;
  }>(url, DeliveryListQuery);
  await api.guard.webhook(params[0]!, tenant);
  const since = timeOf(q.since, 'since', 400);
  const until = timeOf(q.until, 'until', 400);
  const page = await pageAt(q.cursor, () =>
    api.dispatcher.deliveries.list(params[0]!, {
      limit: q.limit ?? 50,
      ...(q.status ? { status: q.status } : {}),
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    }),
  );
  const items = page.items.filter((record) => record.webhookId === params[0]).map(toDeliveryView);
  return pageResponse(items, page.nextCursor);
}

async function recover({ request, params, tenant, api }: RouteContext): Promise<Response> {
  const body = await jsonBody(request, api.maxBodyBytes, ['json']);
  check(RecoverBody, body?.value, { status: 422, code: 'ERR_INVALID_WEBHOOK' });
  const { since, until } = body!.value as { since: string | number; until?: string | number };
  await api.guard.webhook(params[0]!, tenant);
  const sinceMs = timeOf(since, 'since', 422)!;
  const untilMs = timeOf(until, 'until', 422);
  const queued = await api.dispatcher.deliveries.recover(params[0]!, {
    since: sinceMs,
    ...(untilMs === undefined ? {} : { until: untilMs }),
  });
  return json(202, { queued });
}

export const webhookActionRoutes: Route[] = [
  {
    method: 'POST',
    path: '/webhooks/preview',
    openapi: {
      operationId: 'previewWebhook',
      summary:
        'The exact request an unsaved webhook would get (a form\u2019s live preview); nothing is saved',
      description:
        'The body is a WebhookCreate, plus optional `id` (preview an edit of a saved webhook: the body\u2019s fields ' +
        'over its own) and `event` (default: the sample `test` would send). Validated like a save.',
      requestBody: body('WebhookCreate'),
      responses: {
        '200': ok('The request, as it would be sent.', 'PreviewedRequest'),
        ...BODY_ERRORS,
        ...ERRORS,
      },
    },
    handle: preview,
  },
  {
    method: 'POST',
    path: '/webhooks/:id/test',
    params: WEBHOOK_ID,
    openapi: {
      operationId: 'testWebhook',
      summary: 'Send a sample event',
      responses: { '200': ok('The delivery result.', 'DeliveryResult'), ...ERRORS },
    },
    async handle({ request, params, tenant, api }) {
      await jsonBody(request, api.maxBodyBytes, ['json']);
      await api.guard.webhook(params[0]!, tenant);
      return json(200, await api.dispatcher.test(params[0]!));
    },
  },
  {
    method: 'POST',
    path: '/webhooks/:id/rotate-secret',
    params: WEBHOOK_ID,
    openapi: {
      operationId: 'rotateWebhookSecret',
      summary: 'Replace the signing secret',
      responses: {
        '200': ok(
          'The webhook with its new `secret`, shown in this response only; for an Ed25519 key only its new `publicKey`.',
          'WebhookWithSecret',
        ),
        ...ERRORS,
      },
    },
    async handle({ request, params, tenant, api }) {
      await jsonBody(request, api.maxBodyBytes, ['json']);
      await api.guard.webhook(params[0]!, tenant);
      const rotated = await api.dispatcher.webhooks.rotateSecret(params[0]!);
      return json(200, { ...toView(rotated), ...shownSecret(rotated) });
    },
  },
  {
    method: 'GET',
    path: '/webhooks/:id/deliveries',
    params: WEBHOOK_ID,
    openapi: {
      operationId: 'listDeliveries',
      summary: "List a webhook's deliveries, newest first",
      parameters: [
        queryParameter('status', { type: 'string', enum: ['delivered', 'failed'] }, 'Of the latest attempt.'),
        queryParameter('since', { type: 'string' }, 'ISO-8601 or epoch ms (by creation).'),
        queryParameter('until', { type: 'string' }, 'ISO-8601 or epoch ms, exclusive.'),
        ...PAGE,
      ],
      responses: {
        '200': ok('A page of deliveries.', 'DeliveryPage'),
        '400': error('Bad query.'),
        ...ERRORS,
      },
    },
    handle: listDeliveries,
  },
  {
    method: 'POST',
    path: '/webhooks/:id/recover',
    params: WEBHOOK_ID,
    openapi: {
      operationId: 'recoverWebhook',
      summary: 'Resend the deliveries still failed in a time window',
      requestBody: body('RecoverRequest'),
      responses: {
        '202': ok(
          'How many deliveries were queued; the re-sends go on through the lanes.',
          'RecoverAccepted',
        ),
        ...BODY_ERRORS,
        ...ERRORS,
      },
    },
    handle: recover,
  },
];
