import { describe } from '../core/describe.js';
import { numberOption, OptionsError } from '../extend.js';
import type { AdminDispatcher } from './admin-dispatcher.js';
import { IdempotencyCache, type IdempotencyOptions } from './idempotency.js';
import { createOpenApiDocument } from './openapi.js';
import { type PortalOptions, portalRoutes } from './portal/index.js';
import type { ApiServices } from './route.js';
import { ROUTES } from './route-table.js';
import { Router } from './router.js';
import { TenantGuard, type TenantResolver } from './tenant-guard.js';

export { NO_TENANT, type TenantResolver } from './tenant-guard.js';

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
  /**
   * `Idempotency-Key` on POST routes: the same key (per tenant) with the same request within `ttlMs` answers the
   * first response again, with another request 422. Kept in memory, in this process, bounded by count and bytes.
   * `false` ignores the header. @default { ttlMs: 86_400_000, maxEntries: 10_000, maxBytes: 16_777_216 }
   */
  idempotency?: IdempotencyOptions | false;
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

function checkOptions(options: WebhookApiOptions): void {
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
}

/**
 * The admin HTTP API for a dispatcher, as a Fetch-style handler `(Request) => Promise<Response>`: mount it on any
 * server (`toNodeHandler()` for node:http and Express, `fastifyPlugin()` for Fastify, or directly on Fetch servers).
 * Every route acts on the tenant the resolver returns, and only on it: another tenant's webhook is a 404.
 * The routes are the rows of `route-table.ts`; the tenant guard, the router and the handlers are modules of their own.
 *
 * @example
 * const api = createWebhookApi({ dispatcher, tenant: (request) => sessionOf(request)?.accountId });
 * createServer(toNodeHandler(api)).listen(3000);
 */
export function createWebhookApi(options: WebhookApiOptions): WebhookApiHandler {
  checkOptions(options);
  const basePath = normalizeBasePath(options.basePath);
  const maxBodyBytes = numberOption('maxBodyBytes', options.maxBodyBytes, 262_144, {
    positive: true,
    integer: true,
    max: 64 * 1024 * 1024,
  });
  const tenantTimeoutMs = numberOption('tenantTimeoutMs', options.tenantTimeoutMs, 10_000, {
    positive: true,
  });
  const idempotency =
    options.idempotency === false ? undefined : new IdempotencyCache(options.idempotency ?? {});
  let openApi: string | undefined;
  const services: ApiServices = {
    dispatcher: options.dispatcher,
    guard: new TenantGuard(options.tenant, tenantTimeoutMs, options.dispatcher),
    basePath,
    maxBodyBytes,
    openApi: () => {
      openApi ??= JSON.stringify(createOpenApiDocument({ basePath, idempotency: idempotency !== undefined }));
      return openApi;
    },
  };
  const router = new Router(ROUTES, {
    basePath,
    portal: options.portal ? portalRoutes(options.portal === true ? {} : options.portal) : [],
    services,
    idempotency,
    onError: options.onError,
  });
  const handle = (request: Request, context: { raw?: unknown } = {}) => router.handle(request, context.raw);
  return Object.assign(handle, { basePath, maxBodyBytes }) as WebhookApiHandler;
}
