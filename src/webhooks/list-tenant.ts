import type { Webhook, WebhookStore } from '../core/types.js';

/**
 * Adds `listTenant` to a store as a property that is not enumerable: a store made by spreading this one
 * (`{ ...memoryStore(), list }`, and likewise for `postgresStore` and `redisStore`) reads through its own `list()`, instead of a `listTenant` that would bypass it.
 */
export function withListTenant<S extends WebhookStore>(
  store: S,
  listTenant: (tenant: string | null) => Promise<Webhook[]>,
): S & { listTenant(tenant: string | null): Promise<Webhook[]> } {
  Object.defineProperty(store, 'listTenant', {
    value: listTenant,
    enumerable: false,
    writable: true,
    configurable: true,
  });
  return store as S & { listTenant(tenant: string | null): Promise<Webhook[]> };
}
