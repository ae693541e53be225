import type { Webhook, WebhookStore } from '../core/types.js';

/**
 * The default `WebhookStore`: webhooks live in this process's memory. Records are copied in and out, so
 * callers can never mutate a stored webhook by accident.
 *
 * @example
 * const dispatcher = createWebhookDispatcher({ store: memoryStore() });
 */
export function memoryStore(initial: Iterable<Webhook> = []): WebhookStore {
  const records = new Map<string, Webhook>();
  for (const webhook of initial) records.set(webhook.id, structuredClone(webhook));

  return {
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
      records.set(webhook.id, structuredClone(webhook));
    },
    async update(webhook) {
      if (!records.has(webhook.id)) throw new Error(`memoryStore.update: no webhook "${webhook.id}"`);
      records.set(webhook.id, structuredClone(webhook));
    },
    async delete(id) {
      return records.delete(id);
    },
  };
}
