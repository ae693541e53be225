import { Value } from '@sinclair/typebox/value';
import { describe } from '../core/describe.js';
import type { WebhookEvent, WebhookInput } from '../core/types.js';
import { numberOption, OptionsError, validateTenant } from '../extend.js';
import { isSensitiveHeader } from '../rendering/sensitive-headers.js';
import type { AdminDispatcher } from './admin-dispatcher.js';
import { jsonBody } from './body.js';
import { toDeliveryView } from './delivery-view.js';
import { ApiError, toApiError } from './errors.js';
import { createOpenApiDocument } from './openapi.js';
import { applyJsonPatch, applyMergePatch, restoreRedacted, toWebhookPatch } from './patch.js';
import { type PortalOptions, type PortalRoute, portalRoutes } from './portal/index.js';
import {
  DeliveryListQuery,
  RecoverBody,
  RedeliverBody,
  WebhookCreate,
  WebhookListQuery,
  WebhookMergePatch,
} from './schemas.js';
import { check } from './validate.js';
import { REDACTED, type StoredWebhook, toView } from './view.js';
import { pageOfWebhooks } from './webhook-pages.js';

/**
 * Returned by a tenant resolver to act on the webhooks that belong to no tenant (a single-tenant host's own admin).
 * It has to be said explicitly: `undefined` or `null` from the resolver refuses the request (401).
 */
export const NO_TENANT: unique symbol = Symbol.for('webhook-dispatcher.no-tenant');

/**
 * Who is asking: the tenant id of the request (from the host's own session or token), `NO_TENANT`, or `undefined`
 * to refuse it (401). It may be async. Through `toNodeHandler()` or `fastifyPlugin()` it also gets the framework's
 * request (`req.user` of Express, `request.user` of Fastify). Tenant ids are compared exactly: `acme`, `ACME`, `acme ` and `acme\u200b`
 * are four tenants.
 */
export type TenantResolver = (
  request: Request,
  /** The framework's own request when served through an adapter (node:http / Express `req`, Fastify `request`). */
  raw: unknown,
) => string | typeof NO_TENANT | undefined | null | Promise<string | typeof NO_TENANT | undefined | null>;

/** Options of `createWebhookApi()`. */
export interface WebhookApiOptions {
  /** The dispatcher to manage (`createWebhookDispatcher()`). */
  dispatcher: AdminDispatcher;
  /** Resolves each request's tenant; every route acts only on that tenant's webhooks and deliveries. */
  tenant: TenantResolver;
  /** Where the API is mounted: `/admin/webhooks-api` serves `/admin/webhooks-api/webhooks`, ... @default '' */
  basePath?: string;
  /** Largest request body accepted, in bytes; larger ones answer 413. @default 262_144 (256 KiB) */
  maxBodyBytes?: number;
  /** A tenant resolver that takes longer than this answers 503. @default 10_000 */
  tenantTimeoutMs?: number;
  /** Serve the portal page at `GET /` (and its assets at `/assets/*`). @default false */
  portal?: boolean | PortalOptions;
  /** Called with every error that answered 500 (the response itself says only "Internal error"). */
  onError?: (error: unknown, request: Request) => void;
}

/** The admin API: a Fetch-style handler, with what the Node and Fastify adapters need to know. */
export interface WebhookApiHandler {
  (request: Request, context?: { raw?: unknown }): Promise<Response>;
  /** The normalized `basePath` ('' or `/x/y`, no trailing slash). */
  readonly basePath: string;
  readonly maxBodyBytes: number;
}

type Tenant = string | null;

interface Context {
  request: Request;
  url: URL;
  params: string[];
  tenant: Tenant;
}

interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string[];
  run(context: Context): Promise<Response>;
}

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  // Responses may carry a secret (create, rotate): never cached by a browser or a proxy.
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** `WebhookInput` fields a saved webhook carries. */
const INPUT_FIELDS = [
  'url',
  'name',
  'on',
  'secret',
  'signatureScheme',
  'statements',
  'events',
  'contentType',
  'bodyTemplate',
  'templateEscape',
  'headers',
  'tags',
  'rateLimit',
] as const;
/** Signatures are derived values, not credentials: a preview shows them. */
const SIGNATURE_HEADERS = new Set(['x-ld-signature', 'webhook-signature']);

function errorResponse(error: ApiError): Response {
  const body: {
    code: string;
    message: string;
    field?: string;
    position?: number;
    line?: number;
    column?: number;
  } = {
    code: error.code,
    message: error.message,
  };
  if (error.field !== undefined) body.field = error.field;
  // Where in the field: a policy's 0-based offset in the specifier, a template's line and column.
  const cause = error.cause as { position?: unknown; line?: unknown; column?: unknown } | undefined;
  for (const key of ['position', 'line', 'column'] as const) {
    if (typeof cause?.[key] === 'number') body[key] = cause[key] as number;
  }
  const headers: Record<string, string> = { ...error.headers };
  // The rest of an over-limit body is not read: close the connection rather than drain it.
  if (error.status === 413) headers.connection = 'close';
  return json(error.status, { error: body }, headers);
}

function normalizeBasePath(value: unknown): string {
  if (value === undefined || value === '' || value === '/') return '';
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value)) {
    throw new OptionsError(
      'basePath',
      `Expected \`basePath\` to be a path such as "/admin/webhooks", got ${describe(value)}`,
    );
  }
  return value.replace(/\/+$/, '');
}

function webhookNotFound(id: string): ApiError {
  // The same answer whether the webhook does not exist or belongs to another tenant: existence is not revealed.
  return new ApiError(404, 'ERR_WEBHOOK_NOT_FOUND', `No webhook with id ${JSON.stringify(id)}`);
}

function deliveryNotFound(id: string): ApiError {
  return new ApiError(404, 'ERR_DELIVERY_NOT_FOUND', `No delivery with id ${JSON.stringify(id)}`);
}

const tenantOf = (webhook: StoredWebhook): Tenant => webhook.tenant ?? null;

/** Reads the query of `url` through `schema` (numbers converted), refusing unknown or bad parameters with a 400. */
function query<T>(url: URL, schema: Parameters<typeof check>[0]): T {
  const raw: Record<string, string> = {};
  for (const [key, value] of url.searchParams) raw[key] = value;
  const converted = Value.Convert(schema, raw);
  check(schema, converted, { status: 400, code: 'ERR_INVALID_QUERY' });
  return converted as T;
}

/**
 * Reads a page; a `cursor` the dispatcher or its log refuses (whatever error it throws for it) is the client's
 * mistake in the query, a 400, not a 422 or a 500.
 */
async function pageAt<T>(cursor: string | undefined, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (cursor === undefined || (error as { field?: unknown } | null)?.field !== 'cursor') throw error;
    throw new ApiError(400, 'ERR_INVALID_QUERY', (error as Error).message, { field: 'cursor', cause: error });
  }
}

/** ISO-8601 or epoch ms, as epoch ms; anything else is refused naming `field`. */
function timeOf(value: unknown, field: string, status: number): number | undefined {
  if (value === undefined) return undefined;
  const ms =
    typeof value === 'number'
      ? value
      : /^\d+$/.test(String(value))
        ? Number(value)
        : Date.parse(String(value));
  if (!Number.isFinite(ms)) {
    throw new ApiError(
      status,
      status === 400 ? 'ERR_INVALID_QUERY' : 'ERR_INVALID_WEBHOOK',
      `Expected \`${field}\` to be an ISO-8601 date or epoch milliseconds, got ${describe(value)}`,
      { field },
    );
  }
  return ms;
}

/**
 * The admin HTTP API for a dispatcher, as a Fetch-style handler `(Request) => Promise<Response>`: mount it on any
 * server (`toNodeHandler()` for node:http and Express, `fastifyPlugin()` for Fastify, or directly on Fetch servers).
 * Every route acts on the tenant the resolver returns, and only on it: another tenant's webhook is a 404.
 *
 * @example
 * const api = createWebhookApi({ dispatcher, tenant: (request) => sessionOf(request)?.accountId });
 * createServer(toNodeHandler(api)).listen(3000);
 */
export function createWebhookApi(options: WebhookApiOptions): WebhookApiHandler {
  if (typeof options !== 'object' || options === null) {
    throw new OptionsError('options', `Expected the options to be an object, got ${describe(options)}`);
  }
  const { dispatcher } = options;
  if (typeof dispatcher !== 'object' || dispatcher === null || typeof dispatcher.webhooks !== 'object') {
    throw new OptionsError(
      'dispatcher',
      `Expected \`dispatcher\` to be a webhook dispatcher, got ${describe(dispatcher)}`,
    );
  }
  if (typeof options.tenant !== 'function') {
    throw new OptionsError(
      'tenant',
      `Expected \`tenant\` to be a function (request) => tenant id, got ${describe(options.tenant)}`,
    );
  }
  const basePath = normalizeBasePath(options.basePath);
  const maxBodyBytes = numberOption('maxBodyBytes', options.maxBodyBytes, 262_144, {
    positive: true,
    integer: true,
    max: 64 * 1024 * 1024,
  });
  const tenantTimeoutMs = numberOption('tenantTimeoutMs', options.tenantTimeoutMs, 10_000, {
    positive: true,
  });
  const portal: PortalRoute[] = options.portal
    ? portalRoutes(options.portal === true ? {} : options.portal)
    : [];
  let openApi: string | undefined;

  async function resolveTenant(request: Request, raw: unknown): Promise<Tenant> {
    let timer: NodeJS.Timeout | undefined;
    let value: unknown;
    try {
      value = await Promise.race([
        Promise.resolve().then(() => options.tenant(request, raw)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new ApiError(503, 'ERR_TENANT_RESOLVER', 'The tenant resolver did not answer in time')),
            tenantTimeoutMs,
          );
        }),
      ]);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw new ApiError(500, 'ERR_TENANT_RESOLVER', 'Internal error', { cause: error });
    } finally {
      clearTimeout(timer);
    }
    if (value === NO_TENANT) return null;
    if (value === undefined || value === null || value === '') {
      throw new ApiError(401, 'ERR_UNAUTHORIZED', 'The request has no tenant');
    }
    try {
      // The dispatcher's own rule (printable, no surrounding spaces): an id it would refuse is the host's bug.
      return validateTenant(value);
    } catch (error) {
      throw new ApiError(500, 'ERR_TENANT_RESOLVER', 'Internal error', {
        cause: new TypeError(
          `The tenant resolver returned an invalid tenant id: ${(error as Error).message}`,
        ),
      });
    }
  }

  /** The fields of a saved webhook as `create` would take them, for previewing an edit. */
  function savedInput(saved: StoredWebhook): Record<string, unknown> {
    const input: Record<string, unknown> = {};
    for (const key of INPUT_FIELDS)
      if (saved[key as keyof StoredWebhook] !== undefined) input[key] = saved[key as keyof StoredWebhook];
    return input;
  }

  /** A `<redacted>` header value from a read stands for the saved value. */
  function keepRedacted(fields: Record<string, unknown>, saved: StoredWebhook): Record<string, unknown> {
    const headers = fields.headers as Record<string, unknown> | undefined;
    if (headers === undefined || headers === null || typeof headers !== 'object') return fields;
    return { ...fields, headers: restoreRedacted(headers, saved.headers) };
  }

  async function ownedWebhook(id: string, tenant: Tenant): Promise<StoredWebhook> {
    const webhook = await dispatcher.webhooks.get(id);
    if (webhook === undefined || webhook === null || tenantOf(webhook) !== tenant) throw webhookNotFound(id);
    return webhook;
  }

  async function ownedDelivery(id: string, tenant: Tenant) {
    const record = await dispatcher.deliveries.get(id);
    if (record === undefined || record === null) throw deliveryNotFound(id);
    if (record.tenant !== undefined && record.tenant !== tenant) throw deliveryNotFound(id);
    // The webhook decides: a record without a tenant, or of a deleted webhook, is shown to no one else.
    const webhook = await dispatcher.webhooks.get(record.webhookId);
    if (webhook === undefined || webhook === null || tenantOf(webhook) !== tenant) throw deliveryNotFound(id);
    return record;
  }

  const location = (id: string) => `${basePath}/webhooks/${encodeURIComponent(id)}`;

  const routes: Route[] = [
    {
      method: 'GET',
      path: ['webhooks'],
      async run({ url, tenant }) {
        const { limit, cursor } = query<{ limit?: number; cursor?: string }>(url, WebhookListQuery);
        const page = pageOfWebhooks(await dispatcher.webhooks.list({ tenant }), limit ?? 50, cursor);
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
        return json(200, page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor });
      },
    },
    {
      method: 'POST',
      path: ['webhooks'],
      async run({ request, tenant }) {
        const body = await jsonBody(request, maxBodyBytes, ['json']);
        if (body === undefined) throw new ApiError(400, 'ERR_MALFORMED_JSON', 'Expected a JSON body');
        check(WebhookCreate, body.value, { status: 422, code: 'ERR_INVALID_WEBHOOK' });
        const { tenant: claimed, ...input } = body.value as Record<string, unknown> & { url: string };
        if (claimed !== undefined && claimed !== tenant) {
          throw new ApiError(
            422,
            'ERR_INVALID_WEBHOOK',
            "Expected `tenant` to be absent or the request's own tenant: the server sets it",
            {
              field: 'tenant',
            },
          );
        }
        const created = await dispatcher.webhooks.create(tenant === null ? input : { ...input, tenant });
        if (tenantOf(created) !== tenant) {
          // A dispatcher that dropped the tenant must not leave a webhook other tenants would see.
          await dispatcher.webhooks.delete(created.id).catch(() => {});
          throw new ApiError(500, 'ERR_INTERNAL', 'Internal error', {
            cause: new Error('webhooks.create() did not keep the tenant'),
          });
        }
        const view = {
          ...toView(created),
          ...(created.secret === undefined ? {} : { secret: created.secret }),
        };
        return json(201, view, { location: location(created.id) });
      },
    },
    {
      method: 'GET',
      path: ['webhooks', ':id'],
      async run({ params, tenant }) {
        return json(200, toView(await ownedWebhook(params[0]!, tenant)));
      },
    },
    {
      method: 'PATCH',
      path: ['webhooks', ':id'],
      async run({ request, params, tenant }) {
        const id = params[0]!;
        const body = await jsonBody(request, maxBodyBytes, ['json-patch', 'merge-patch', 'json']);
        if (body === undefined) throw new ApiError(400, 'ERR_INVALID_PATCH', 'Expected a patch body');
        const saved = await ownedWebhook(id, tenant);
        const before = toView(saved);
        let after: unknown;
        if (body.kind === 'json-patch') {
          after = applyJsonPatch(before as unknown as Record<string, unknown>, body.value);
        } else {
          check(WebhookMergePatch, body.value, { status: 422, code: 'ERR_INVALID_WEBHOOK' });
          after = applyMergePatch(before, body.value);
        }
        const patch = toWebhookPatch(before, after, saved);
        if (Object.keys(patch).length === 0) return json(200, before);
        const updated = await dispatcher.webhooks.update(id, patch);
        const secretChanged = updated.secret !== undefined && updated.secret !== saved.secret;
        return json(200, { ...toView(updated), ...(secretChanged ? { secret: updated.secret } : {}) });
      },
    },
    {
      method: 'DELETE',
      path: ['webhooks', ':id'],
      async run({ params, tenant }) {
        await ownedWebhook(params[0]!, tenant);
        await dispatcher.webhooks.delete(params[0]!);
        return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } });
      },
    },
    {
      // The live preview of a form: the exact request a webhook configured so would get, validated like a save
      // (422 with the field, and the position for a policy), nothing saved. `id` previews an edit of a saved one.
      method: 'POST',
      path: ['webhooks', 'preview'],
      async run({ request, tenant }) {
        const body = await jsonBody(request, maxBodyBytes, ['json']);
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
          const saved = await ownedWebhook(id, tenant);
          input = { ...savedInput(saved), ...keepRedacted(fields, saved) };
        } else {
          check(WebhookCreate, fields, { status: 422, code: 'ERR_INVALID_WEBHOOK' });
        }
        if (event !== undefined && (typeof event !== 'object' || event === null || Array.isArray(event))) {
          throw new ApiError(422, 'ERR_INVALID_EVENT', 'Expected `event` to be an object', {
            field: 'event',
          });
        }
        const previewed = await dispatcher.preview(
          (tenant === null ? input : { ...input, tenant }) as unknown as WebhookInput,
          event as WebhookEvent | undefined,
        );
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(previewed.headers)) {
          headers[name] = isSensitiveHeader(name) && !SIGNATURE_HEADERS.has(name) ? REDACTED : value;
        }
        return json(200, { url: previewed.url, method: previewed.method, headers, body: previewed.body });
      },
    },
    {
      method: 'POST',
      path: ['webhooks', ':id', 'test'],
      async run({ request, params, tenant }) {
        await jsonBody(request, maxBodyBytes, ['json']);
        await ownedWebhook(params[0]!, tenant);
        return json(200, await dispatcher.test(params[0]!));
      },
    },
    {
      method: 'POST',
      path: ['webhooks', ':id', 'rotate-secret'],
      async run({ request, params, tenant }) {
        await jsonBody(request, maxBodyBytes, ['json']);
        await ownedWebhook(params[0]!, tenant);
        const rotated = await dispatcher.webhooks.rotateSecret(params[0]!);
        return json(200, { ...toView(rotated), secret: rotated.secret });
      },
    },
    {
      method: 'GET',
      path: ['webhooks', ':id', 'deliveries'],
      async run({ url, params, tenant }) {
        const q = query<{
          status?: 'delivered' | 'failed';
          since?: string;
          until?: string;
          limit?: number;
          cursor?: string;
        }>(url, DeliveryListQuery);
        await ownedWebhook(params[0]!, tenant);
        const since = timeOf(q.since, 'since', 400);
        const until = timeOf(q.until, 'until', 400);
        const page = await pageAt(q.cursor, () =>
          dispatcher.deliveries.list(params[0]!, {
            limit: q.limit ?? 50,
            ...(q.status ? { status: q.status } : {}),
            ...(since === undefined ? {} : { since }),
            ...(until === undefined ? {} : { until }),
            ...(q.cursor ? { cursor: q.cursor } : {}),
          }),
        );
        const items = page.items.filter((record) => record.webhookId === params[0]).map(toDeliveryView);
        return json(200, page.nextCursor === undefined ? { items } : { items, nextCursor: page.nextCursor });
      },
    },
    {
      method: 'POST',
      path: ['webhooks', ':id', 'recover'],
      async run({ request, params, tenant }) {
        const body = await jsonBody(request, maxBodyBytes, ['json']);
        check(RecoverBody, body?.value, { status: 422, code: 'ERR_INVALID_WEBHOOK' });
        const { since, until } = body!.value as { since: string | number; until?: string | number };
        await ownedWebhook(params[0]!, tenant);
        const sinceMs = timeOf(since, 'since', 422)!;
        const untilMs = timeOf(until, 'until', 422);
        const queued = await dispatcher.deliveries.recover(params[0]!, {
          since: sinceMs,
          ...(untilMs === undefined ? {} : { until: untilMs }),
        });
        return json(202, { queued });
      },
    },
    {
      method: 'GET',
      path: ['deliveries', ':id'],
      async run({ params, tenant }) {
        return json(200, toDeliveryView(await ownedDelivery(params[0]!, tenant)));
      },
    },
    {
      method: 'POST',
      path: ['deliveries', ':id', 'redeliver'],
      async run({ request, params, tenant }) {
        const body = await jsonBody(request, maxBodyBytes, ['json']);
        const value = body?.value ?? {};
        check(RedeliverBody, value, { status: 422, code: 'ERR_INVALID_WEBHOOK' });
        await ownedDelivery(params[0]!, tenant);
        const force = (value as { force?: boolean }).force;
        return json(
          200,
          await dispatcher.deliveries.redeliver(params[0]!, force === undefined ? {} : { force }),
        );
      },
    },
    {
      method: 'GET',
      path: ['event-types'],
      async run() {
        const catalog = dispatcher.eventTypes;
        if (catalog === undefined) return json(200, { catalog: null, items: [] });
        const items = catalog.names.map((type) => {
          const definition = catalog.types[type]!;
          return {
            type,
            description: definition.description,
            ...(definition.deprecated ? { deprecated: true } : {}),
            ...(definition.schema === undefined ? {} : { schema: definition.schema }),
          };
        });
        return json(200, { catalog: catalog.name, items });
      },
    },
    {
      method: 'GET',
      path: ['openapi.json'],
      async run() {
        openApi ??= JSON.stringify(createOpenApiDocument({ basePath }));
        return new Response(openApi, {
          status: 200,
          headers: { ...JSON_HEADERS, 'cache-control': 'no-cache' },
        });
      },
    },
  ];

  /** The segments below basePath, decoded; undefined when the path is outside it or cannot be decoded. */
  function segmentsOf(pathname: string): { path: string; segments: string[] } | undefined {
    if (pathname !== basePath && !pathname.startsWith(`${basePath}/`)) return undefined;
    const path = pathname.slice(basePath.length) || '/';
    try {
      const segments = path
        .split('/')
        .filter((segment) => segment !== '')
        .map(decodeURIComponent);
      return { path, segments };
    } catch {
      return undefined;
    }
  }

  function portalRoute(method: string, path: string): PortalRoute | undefined {
    if (method !== 'GET') return undefined;
    return portal.find((route) =>
      route.path.endsWith('/*') ? path.startsWith(route.path.slice(0, -1)) : route.path === path,
    );
  }

  function match(
    method: string,
    segments: string[],
  ): { route: Route; params: string[] } | { allow: string[] } | undefined {
    const allow: string[] = [];
    for (const route of routes) {
      if (route.path.length !== segments.length) continue;
      const params: string[] = [];
      const fits = route.path.every((part, i) => {
        if (part.startsWith(':')) {
          params.push(segments[i]!);
          return segments[i]!.length <= 256;
        }
        return part === segments[i];
      });
      if (!fits) continue;
      if (route.method === method) return { route, params };
      allow.push(route.method);
    }
    return allow.length > 0 ? { allow } : undefined;
  }

  async function handle(request: Request, context: { raw?: unknown } = {}): Promise<Response> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return errorResponse(new ApiError(400, 'ERR_NOT_FOUND', 'Invalid request URL'));
    }
    try {
      const below = segmentsOf(url.pathname);
      if (below === undefined)
        throw new ApiError(404, 'ERR_NOT_FOUND', `No route ${request.method} ${url.pathname}`);
      const page = portalRoute(request.method, below.path);
      if (page !== undefined) {
        const tenant = await resolveTenant(request, context.raw);
        return await page.handle(request, { basePath, tenant, path: below.path });
      }
      const found = match(request.method, below.segments);
      if (found === undefined)
        throw new ApiError(404, 'ERR_NOT_FOUND', `No route ${request.method} ${url.pathname}`);
      if ('allow' in found) {
        throw new ApiError(
          405,
          'ERR_METHOD_NOT_ALLOWED',
          `${request.method} is not allowed here; allowed: ${found.allow.join(', ')}`,
          {
            headers: { allow: found.allow.join(', ') },
          },
        );
      }
      const tenant = await resolveTenant(request, context.raw);
      return await found.route.run({ request, url, params: found.params, tenant });
    } catch (error) {
      const answer = toApiError(error, 'url');
      if (answer.status >= 500 && options.onError) {
        try {
          options.onError(answer.cause ?? error, request);
        } catch {
          // A failing error hook must not turn a 500 into a crash.
        }
      }
      return errorResponse(answer);
    }
  }

  return Object.assign(handle, { basePath, maxBodyBytes }) as WebhookApiHandler;
}
