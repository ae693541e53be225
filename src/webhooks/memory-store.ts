import type { Webhook, WebhookStore } from '../core/types.js';
import { withListTenant } from './list-tenant.js';

/**
 * The default `WebhookStore`: webhooks live in this process's memory. Records are copied in and out, so
 * callers can never mutate a stored webhook by accident. Webhooks are also kept by tenant, so `listTenant`
 * reads one tenant's without scanning the rest.
 *
 * @example
 * const dispatcher = createWebhookDispatcher({ store: memoryStore() });
 */
export function memoryStore(initial: Iterable<Webhook> = []): WebhookStore {
  const records = new Map<string, Webhook>();
  /** tenant ('' for none) -> ids of its webhooks. */
  const byTenant = new Map<string, Set<string>>();
  const keyOf = (webhook: Webhook) => (typeof webhook.tenant === 'string' ? `t:${webhook.tenant}` : '');
  const save = (webhook: Webhook) => {
    const previous = records.get(webhook.id);
    if (previous !== undefined) unlink(previous);
    const copy = structuredClone(webhook);
    records.set(webhook.id, copy);
    const key = keyOf(copy);
    let ids = byTenant.get(key);
    if (ids === undefined) {
      ids = new Set();
      byTenant.set(key, ids);
    }
    ids.add(copy.id);
  };
  const unlink = (webhook: Webhook) => {
    const key = keyOf(webhook);
    const ids = byTenant.get(key);
    ids?.delete(webhook.id);
    if (ids?.size === 0) byTenant.delete(key);
  };
  for (const webhook of initial) save(webhook);

  const store: WebhookStore = {
    async get(id) {
      const webhook = records.get(id);
      return webhook && structuredClone(webhook);
    },
    async list() {
      return [...records.values()].map((webhook) => structuredClone(webhook));
    },
    async create(webhook) {
      if (records.has(webhook.id))
        throw new Error(`memoryStore.create: webhook "${webhook.id}" already exists`);
      save(webhook);
    },
    async update(webhook) {
      if (!records.has(webhook.id)) throw new Error(`memoryStore.update: no webhook "${webhook.id}"`);
      save(webhook);
    },
    async delete(id) {
      const webhook = records.get(id);
      if (webhook === undefined) return false;
      unlink(webhook);
      return records.delete(id);
    },
  };
  return withListTenant(store, async (tenant) => {
    const ids = byTenant.get(tenant === null ? '' : `t:${tenant}`);
    if (ids === undefined) return [];
    return [...ids].map((id) => structuredClone(records.get(id) as Webhook));
  });
}
