import { api, itemsOf, messageOf, path } from './api.js';
import { $, el, focusIn } from './dom.js';
import { announce, showAlert, state } from './state.js';
import { forgetStats, loadStats, statsLine } from './stats.js';
import type { WebhookView } from './types.js';

/** The list view: every webhook of the tenant, with its health and an on/off switch. */
export async function openList(): Promise<void> {
  $('wp-edit-view').hidden = true;
  $('wp-list-view').hidden = false;
  state.current = undefined;
  document.title = $('wp-title').textContent ?? '';
  const data = await api('GET', 'webhooks?limit=100');
  state.webhooks = itemsOf<WebhookView>(data);
  state.webhooksCursor = data?.nextCursor;
  forgetStats();
  renderList();
}

export async function moreWebhooks(): Promise<void> {
  const data = await api(
    'GET',
    `webhooks?limit=100&cursor=${encodeURIComponent(state.webhooksCursor ?? '')}`,
  );
  const first = state.webhooks.length;
  state.webhooks.push(...itemsOf<WebhookView>(data));
  state.webhooksCursor = data?.nextCursor;
  renderList();
  focusIn($('wp-webhooks').children[first], 'a');
}

function healthOf(webhook: WebhookView): { kind: string; text: string } | undefined {
  if (webhook.disabled) {
    const reason =
      webhook.disabled.reason === 'gone' ? 'the receiver answered 410 Gone' : webhook.disabled.reason;
    const since = webhook.disabled.at ? ` since ${new Date(webhook.disabled.at).toLocaleString()}` : '';
    return { kind: 'disabled', text: `Disabled: ${reason}${since}` };
  }
  const health = webhook.health;
  if (webhook.failing || health?.failing || health?.state === 'failing' || health?.status === 'failing') {
    return { kind: 'failing', text: 'Failing' };
  }
  return undefined;
}

function switchButton(webhook: WebhookView): HTMLElement {
  const label = webhook.name || webhook.url;
  const button = el(
    'button',
    {
      type: 'button',
      role: 'switch',
      class: 'wp-switch',
      'aria-checked': String(webhook.on),
      'aria-label': `On/Off: ${label}`,
    },
    el('span', { class: 'wp-switch-track', 'aria-hidden': 'true' }),
    el('span', { 'aria-hidden': 'true' }, webhook.on ? 'On' : 'Off'),
  ) as HTMLButtonElement;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const updated = await api(
        'PATCH',
        path('webhooks', webhook.id),
        { on: !webhook.on },
        'application/merge-patch+json',
      );
      Object.assign(webhook, updated);
      if (updated.disabled === undefined) delete webhook.disabled;
      renderList();
      announce(`${webhook.name || 'Webhook'} switched ${webhook.on ? 'on' : 'off'}.`);
      document.querySelector<HTMLElement>(`[data-switch="${CSS.escape(webhook.id)}"]`)?.focus();
    } catch (error) {
      button.disabled = false;
      showAlert(messageOf(error));
    }
  });
  button.dataset.switch = webhook.id;
  return button;
}

function card(webhook: WebhookView): HTMLElement {
  const health = healthOf(webhook);
  return el(
    'li',
    { class: 'wp-card', 'data-webhook': webhook.id },
    el(
      'div',
      {},
      el(
        'h3',
        {},
        el('a', { href: `#/webhooks/${encodeURIComponent(webhook.id)}` }, webhook.name || webhook.url),
      ),
      el('p', { class: 'wp-card-url' }, webhook.url),
      statsLine(webhook.id),
    ),
    el(
      'div',
      { class: 'wp-card-side' },
      health ? el('span', { class: `wp-badge wp-badge-${health.kind}` }, health.text) : undefined,
      switchButton(webhook),
    ),
  );
}

function renderList(): void {
  const list = $('wp-webhooks');
  list.replaceChildren(...state.webhooks.map(card));
  $('wp-empty').hidden = state.webhooks.length > 0;
  $('wp-webhooks-more').hidden = !state.webhooksCursor;
  loadStats(state.webhooks.map((webhook) => webhook.id)).catch(() => {});
}
