import { validateTenant } from '../extend.js';
import type { AdminDispatcher } from './admin-dispatcher.js';
import { ApiError } from './errors.js';
import type { StoredWebhook } from './view.js';

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

/** A request's tenant: its id, or null for the webhooks of no tenant. */
export type Tenant = string | null;

export const tenantOf = (webhook: StoredWebhook): Tenant => webhook.tenant ?? null;

function webhookNotFound(id: string): ApiError {
  // The same answer whether the webhook does not exist or belongs to another tenant: existence is not revealed.
  return new ApiError(404, 'ERR_WEBHOOK_NOT_FOUND', `No webhook with id ${JSON.stringify(id)}`);
}

function deliveryNotFound(id: string): ApiError {
  return new ApiError(404, 'ERR_DELIVERY_NOT_FOUND', `No delivery with id ${JSON.stringify(id)}`);
}

/** The one door every route passes: who the request is, and which webhooks and deliveries it may see. */
export class TenantGuard {
  readonly #resolver: TenantResolver;
  readonly #timeoutMs: number;
  readonly #dispatcher: AdminDispatcher;

  constructor(resolver: TenantResolver, timeoutMs: number, dispatcher: AdminDispatcher) {
    this.#resolver = resolver;
    this.#timeoutMs = timeoutMs;
    this.#dispatcher = dispatcher;
  }

  /** The request's tenant; 401 without one, 503 when the resolver is late, 500 when it throws or answers junk. */
  async resolve(request: Request, raw: unknown): Promise<Tenant> {
    let timer: NodeJS.Timeout | undefined;
    let value: unknown;
    try {
      value = await Promise.race([
        Promise.resolve().then(() => this.#resolver(request, raw)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(new ApiError(503, 'ERR_TENANT_RESOLVER', 'The tenant resolver did not answer in time')),
            this.#timeoutMs,
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

  /** The webhook, when it is the tenant's; a 404 otherwise. */
  async webhook(id: string, tenant: Tenant): Promise<StoredWebhook> {
    const webhook = await this.#dispatcher.webhooks.get(id);
    if (webhook === undefined || webhook === null || tenantOf(webhook) !== tenant) throw webhookNotFound(id);
    return webhook;
  }

  /** The delivery, when its webhook is the tenant's; a 404 otherwise. */
  async delivery(id: string, tenant: Tenant) {
    const record = await this.#dispatcher.deliveries.get(id);
    if (record === undefined || record === null) throw deliveryNotFound(id);
    if (record.tenant !== undefined && record.tenant !== tenant) throw deliveryNotFound(id);
    // The webhook decides: a record without a tenant, or of a deleted webhook, is shown to no one else.
    const webhook = await this.#dispatcher.webhooks.get(record.webhookId);
    if (webhook === undefined || webhook === null || tenantOf(webhook) !== tenant) throw deliveryNotFound(id);
    return record;
  }
}
