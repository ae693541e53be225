import { $ } from './dom.js';
import type { CatalogItem, WebhookView } from './types.js';

/** The page's one state: what the list shows, the webhook being edited, what the catalog offers. */
export const state: {
  webhooks: WebhookView[];
  webhooksCursor: string | undefined;
  /** undefined: not loaded yet; null: the server has no catalog. */
  catalog: CatalogItem[] | null | undefined;
  current: WebhookView | undefined;
  /** A secret just created, shown once on the page the creation leads to. */
  secret: { id: string; value: string } | undefined;
  headersDirty: boolean;
  deliveriesCursor: string | undefined;
} = {
  webhooks: [],
  webhooksCursor: undefined,
  catalog: undefined,
  current: undefined,
  secret: undefined,
  headersDirty: false,
  deliveriesCursor: undefined,
};

let announcedAt = 0;

/** Says `message` through the live region. */
export function announce(message: string): void {
  announcedAt = Date.now();
  const status = $('wp-status');
  status.textContent = '';
  // A changed text is announced; the same text twice in a row needs the empty step in between.
  setTimeout(() => {
    status.textContent = message;
  }, 50);
}

/** True when the last announcement is older than a second (stale for a new navigation). */
export const announcementIsStale = (): boolean => Date.now() - announcedAt > 1000;

export function showAlert(message: string | undefined): void {
  const alert = $('wp-alert');
  alert.textContent = message || '';
  alert.hidden = !message;
}

/** The webhook being edited; only called where the editor is open on a saved one. */
export function current(): WebhookView {
  if (!state.current) throw new Error('No webhook is open.');
  return state.current;
}
