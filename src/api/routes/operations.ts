// The operator's routes: every failed delivery of the tenant in one listing, recovered in one call, and each
// webhook's delivery figures. The tenant is always the request's own (the tenant guard's), never a parameter.
import { jsonBody } from '../body.js';
import { toDeliveryView } from '../delivery-view.js';
import { json, pageResponse } from '../http.js';
import { BODY_ERRORS, body, ERRORS, error, ok, PAGE, queryParameter } from '../openapi-parts.js';
import { DeliverySearchQuery, RecoverAllBody, StatsQuery } from '../ops-schemas.js';
import { pageAt, query, timeOf } from '../query.js';
import type { Route, RouteContext } from '../route.js';
import type { Tenant } from '../tenant-guard.js';
import { check } from '../validate.js';

/** A record is shown only to its own tenant: the log's tenant filter is checked again, not trusted. */
const ownedBy = (tenant: Tenant) => (record: { tenant?: string }) => (record.tenant ?? null) === tenant;

async function listAll({ url, tenant, api }: RouteContext): Promise<Response> {
  const q = query<{
    status?: 'delivered' | 'failed';
    since?: string;
    until?: string;
    webhookId?: string;
    limit?: number;
    cursor?: string;
  }>(url, DeliverySearchQuery);
  // Another tenant's webhook id answers 404, as everywhere: its existence is not revealed.
  if (q.webhookId !== undefined) await api.guard.webhook(q.webhookId, tenant);
  const since = timeOf(q.since, 'since', 400);
  const until = timeOf(q.until, 'until', 400);
  const page = await pageAt(q.cursor, () =>
    api.dispatcher.deliveries.list({
      tenant,
      limit: q.limit ?? 50,
      ...(q.status ? { status: q.status } : {}),
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
      ...(q.webhookId === undefined ? {} : { webhookId: q.webhookId }),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    }),
  );
  return pageResponse(page.items.filter(ownedBy(tenant)).map(toDeliveryView), page.nextCursor);
}

async function recoverAll({ request, tenant, api }: RouteContext): Promise<Response> {
  const parsed = await jsonBody(request, api.maxBodyBytes, ['json']);
  check(RecoverAllBody, parsed?.value, { status: 422, code: 'ERR_INVALID_WEBHOOK' });
  const { since, until, webhookId } = parsed!.value as {
    since: string | number;
    until?: string | number;
    webhookId?: string;
  };
  if (webhookId !== undefined) await api.guard.webhook(webhookId, tenant);
  const sinceMs = timeOf(since, 'since', 422)!;
  const untilMs = timeOf(until, 'until', 422);
  const queued = await api.dispatcher.deliveries.recover({
    since: sinceMs,
    tenant,
    ...(untilMs === undefined ? {} : { until: untilMs }),
    ...(webhookId === undefined ? {} : { webhookId }),
  });
  return json(202, { queued });
}

async function stats({ url, params, tenant, api }: RouteContext): Promise<Response> {
  const q = query<{ since?: string }>(url, StatsQuery);
  await api.guard.webhook(params[0]!, tenant);
  const since = timeOf(q.since, 'since', 400);
  return json(200, await api.dispatcher.deliveries.stats(params[0]!, since === undefined ? {} : { since }));
}

export const operationRoutes: Route[] = [
  {
    method: 'GET',
    path: '/deliveries',
    openapi: {
      operationId: 'searchDeliveries',
      summary: 'List the deliveries of every webhook of the tenant, newest first (e.g. status=failed)',
      parameters: [
        queryParameter('status', { type: 'string', enum: ['delivered', 'failed'] }, 'Of the latest attempt.'),
        queryParameter('since', { type: 'string' }, 'ISO-8601 or epoch ms (by creation).'),
        queryParameter('until', { type: 'string' }, 'ISO-8601 or epoch ms, exclusive.'),
        queryParameter('webhookId', { type: 'string' }, "Only this webhook's (of the tenant)."),
        ...PAGE,
      ],
      responses: {
        '200': ok('A page of deliveries; a page may be short, follow `nextCursor`.', 'DeliveryPage'),
        '400': error('Bad query.'),
        '501': error('The delivery log has no `search`.'),
        ...ERRORS,
      },
    },
    handle: listAll,
  },
  {
    method: 'POST',
    path: '/deliveries/recover',
    openapi: {
      operationId: 'recoverDeliveries',
      summary: "Resend every delivery of the tenant's webhooks still failed in a time window",
      requestBody: body('RecoverAllRequest'),
      responses: {
        '202': ok(
          'How many deliveries were queued; the re-sends go on through the lanes.',
          'RecoverAccepted',
        ),
        '501': error('The delivery log has no `findFailed`.'),
        ...BODY_ERRORS,
        ...ERRORS,
      },
    },
    handle: recoverAll,
  },
  {
    method: 'GET',
    path: '/webhooks/:id/stats',
    params: { id: 'Webhook id.' },
    openapi: {
      operationId: 'webhookStats',
      summary: "A webhook's delivery figures: success rate, latency, last success and failure",
      parameters: [queryParameter('since', { type: 'string' }, 'ISO-8601 or epoch ms (by creation).')],
      responses: {
        '200': ok('The figures.', 'WebhookStats'),
        '400': error('Bad query.'),
        '501': error('The delivery log has no `webhookStats`.'),
        ...ERRORS,
      },
    },
    handle: stats,
  },
];
