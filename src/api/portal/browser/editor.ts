import { api, messageOf, path } from './api.js';
import { loadDeliveries } from './deliveries.js';
import { $, area, field } from './dom.js';
import { clearErrors, fieldError, formError } from './errors.js';
import { loadCatalog, renderEvents } from './events.js';
import { formInput, headerRow, isSigned, patchFrom } from './form.js';
import { formatJson } from './json.js';
import { schedulePreview } from './preview.js';
import { showPublicKey } from './public-key.js';
import { announce, state } from './state.js';
import { checkStatements } from './statements.js';
import type { WebhookView } from './types.js';

/** The editor view: a new webhook (`id` undefined) or a saved one, with its deliveries. */
export async function openEditor(id: string | undefined): Promise<void> {
  await loadCatalog();
  const webhook: WebhookView | undefined =
    id === undefined ? undefined : await api('GET', path('webhooks', id));
  state.current = webhook;
  state.headersDirty = false;
  $('wp-list-view').hidden = true;
  $('wp-edit-view').hidden = false;
  const heading = webhook ? 'Edit webhook' : 'Create a webhook';
  $('wp-edit-heading').textContent = heading;
  document.title = `${heading} · ${$('wp-title').textContent}`;
  clearErrors();
  fill(webhook);
  for (const button of ['wp-test', 'wp-delete']) $(button).hidden = !webhook;
  $('wp-deliveries').hidden = !webhook;
  $('wp-test-result').hidden = true;
  const secret = state.secret && webhook && state.secret.id === webhook.id ? state.secret.value : undefined;
  state.secret = undefined;
  showSecret(secret);
  checkStatements();
  schedulePreview(0);
  if (webhook) await openDeliveries();
  if (secret) $('wp-secret-value').focus();
  else $('wp-edit-heading').focus();
}

/** Puts the webhook's settings (or a new one's defaults) into the form. */
function fill(webhook: WebhookView | undefined): void {
  field('wp-name').value = webhook ? webhook.name || '' : '';
  field('wp-url').value = webhook ? webhook.url : '';
  field('wp-sign').checked = webhook ? isSigned(webhook) : true;
  $('wp-secret-field').hidden = !webhook || !isSigned(webhook);
  showPublicKey(webhook);
  // Empty is the default policy, as the API reads it; the placeholder and the summary show what it is.
  area('wp-statements').value = webhook?.statements ? formatJson(webhook.statements) : '';
  $<HTMLSelectElement>('wp-scheme').value = webhook?.signatureScheme || 'launchdarkly';
  renderEvents(webhook && Array.isArray(webhook.events) ? webhook.events : []);
  field('wp-content-type').value = webhook ? webhook.contentType || '' : 'application/json';
  area('wp-template').value = webhook ? webhook.bodyTemplate || '' : '';
  $('wp-headers-list').replaceChildren();
  for (const [name, value] of Object.entries(webhook?.headers || {})) {
    $('wp-headers-list').append(headerRow(name, value));
  }
}

async function openDeliveries(): Promise<void> {
  $<HTMLSelectElement>('wp-deliveries-status').value = '';
  const since = new Date(Date.now() - 24 * 3600 * 1000);
  since.setSeconds(0, 0);
  field('wp-recover-since').value = new Date(since.getTime() - since.getTimezoneOffset() * 60000)
    .toISOString()
    .slice(0, 16);
  // The settings stay usable when the delivery log cannot be read.
  await loadDeliveries().catch((error: unknown) => {
    $('wp-deliveries-list').replaceChildren();
    $('wp-deliveries-empty').hidden = false;
    $('wp-deliveries-empty').textContent = `The deliveries could not be loaded: ${messageOf(error)}`;
  });
}

export function showSecret(secret: string | undefined): void {
  $('wp-secret').hidden = !secret;
  field('wp-secret-value').value = secret || '';
}

/** Creates the webhook, or saves the changes to the one open as a merge patch. */
export async function save(event: Event): Promise<void> {
  event.preventDefault();
  clearErrors();
  const { input, statementsOk } = formInput();
  if (!input.url) {
    formError('url', 'Enter the URL the webhook posts to.')?.focus();
    return;
  }
  if (!statementsOk) {
    checkStatements();
    $('wp-statements').focus();
    return;
  }
  const button = $<HTMLButtonElement>('wp-save');
  button.disabled = true;
  try {
    const saved = state.current;
    if (saved) {
      const patch = patchFrom(saved, input);
      const updated: WebhookView = await api(
        'PATCH',
        path('webhooks', saved.id),
        patch,
        'application/merge-patch+json',
      );
      state.current = updated;
      state.headersDirty = false;
      $('wp-secret-field').hidden = !isSigned(updated);
      showPublicKey(updated);
      if (updated.secret) showSecret(updated.secret);
      announce('Settings saved.');
    } else {
      const created: WebhookView = await api('POST', 'webhooks', input);
      if (created.secret) state.secret = { id: created.id, value: created.secret };
      location.hash = `#/webhooks/${encodeURIComponent(created.id)}`;
      announce('Webhook created.');
    }
  } catch (error) {
    const target = fieldError(error);
    const summary = $('wp-form-error');
    summary.textContent = `Not saved: ${messageOf(error)}`;
    summary.hidden = false;
    (target || summary).focus();
  } finally {
    button.disabled = false;
  }
}
