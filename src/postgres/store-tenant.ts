import type { Webhook, WebhookStore } from '../index.js';
import { withListTenant } from '../webhooks/list-tenant.js';

/**
 * `listTenant` of `postgresStore`: one tenant's webhooks (`null`: those without a tenant) through `list({ tenant })`,
 * an indexed query on `(tenant, created_at, id)` (the `<table>_tenant_created` index `migrate()` creates). Not an
 * enumerable property, as in `memoryStore`: a store made by spreading this one and replacing `list()` reads through
 * its own `list()`.
 */
export function withTenantReads<S extends WebhookStore>(
  store: S,
  list: (query: { tenant: string | null }) => Promise<Webhook[]>,
): S & { listTenant(tenant: string | null): Promise<Webhook[]> } {
  const listTenant = (tenant: string | null) => list({ tenant });
  return withListTenant(store, listTenant);
}
