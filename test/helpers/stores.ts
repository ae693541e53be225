import type { WebhookStore } from '../../src/index.js';

/** A store that hands its CRUD calls to `inner`, with capabilities (or replacements) of its own in `own`. */
export function storeOver(inner: WebhookStore, own: Partial<WebhookStore> = {}): WebhookStore {
  return {
    get: (id) => inner.get(id),
    list: () => inner.list(),
    create: (webhook) => inner.create(webhook),
    update: (webhook) => inner.update(webhook),
    delete: (id) => inner.delete(id),
    ...own,
  };
}
