import { api, itemsOf, messageOf } from './api.js';
import { $, el, focusIn } from './dom.js';
import { announce, showAlert, state } from './state.js';
import type { DeliveryRecord } from './types.js';

/** A delivery across webhooks: a record with the webhook it went to. */
type FailedRecord = DeliveryRecord & { webhookId?: string };

const WINDOWS: [string, string][] = [
  ['3600000', 'the last hour'],
  ['86400000', 'the last 24 hours'],
  ['604800000', 'the last 7 days'],
];

let cursor: string | undefined;
/** Webhook names by id, for the rows (read from the list, loaded when the view is opened first). */
const names = new Map<string, string>();

/**
 * The "Failed deliveries" view: every webhook of the tenant, newest first, paged, with one "Recover" for all.
 * Built by the script (the page's markup stays the webhooks' own) and inserted once after the list view.
 */
function view(): HTMLElement {
  const existing = document.getElementById('wp-failed-view');
  if (existing) return existing;
  const since = el('select', { id: 'wp-failed-since' });
  for (const [ms, label] of WINDOWS)
    since.append(el('option', { value: ms, selected: ms === '86400000' }, label));
  const form = el(
    'form',
    { id: 'wp-failed-recover', class: 'wp-row wp-recover' },
    el('label', { for: 'wp-failed-since' }, 'Recover failed deliveries of'),
    since,
    el('button', { type: 'submit', id: 'wp-failed-recover-submit', class: 'wp-primary' }, 'Recover'),
  );
  form.addEventListener('submit', recoverAll);
  const more = el(
    'button',
    { type: 'button', id: 'wp-failed-more', class: 'wp-more', hidden: true },
    'Show older',
  );
  more.addEventListener('click', () => loadFailed(true).catch((error) => showAlert(messageOf(error))));
  const section = el(
    'section',
    { id: 'wp-failed-view', 'aria-labelledby': 'wp-failed-heading', hidden: true },
    el(
      'div',
      { class: 'wp-bar' },
      el('h2', { id: 'wp-failed-heading', tabindex: '-1' }, 'Failed deliveries'),
      el('a', { class: 'wp-button', href: '#/' }, 'Back to webhooks'),
    ),
    el(
      'p',
      { class: 'wp-muted' },
      'Every webhook\u2019s deliveries whose latest attempt failed, newest first.',
    ),
    form,
    el('p', { id: 'wp-failed-result', class: 'wp-muted', hidden: true }),
    el('p', { id: 'wp-failed-empty', class: 'wp-muted', hidden: true }, 'No failed deliveries.'),
    el('ul', { id: 'wp-failed-list', class: 'wp-log', 'aria-labelledby': 'wp-failed-heading' }),
    more,
  );
  $('wp-list-view').after(section);
  return section;
}

/** The list view's link to the failed deliveries, added once beside "Add webhook". */
export function addFailedLink(): void {
  if (document.getElementById('wp-failed-link')) return;
  $('wp-add').before(
    el('a', { class: 'wp-button', href: '#/failed', id: 'wp-failed-link' }, 'Failed deliveries'),
  );
}

export function hideFailed(): void {
  const section = document.getElementById('wp-failed-view');
  if (section) section.hidden = true;
}

export async function openFailed(): Promise<void> {
  $('wp-edit-view').hidden = true;
  $('wp-list-view').hidden = true;
  state.current = undefined;
  const section = view();
  section.hidden = false;
  $('wp-failed-result').hidden = true;
  document.title = `Failed deliveries \u2013 ${$('wp-title').textContent ?? ''}`;
  const webhooks =
    state.webhooks.length > 0 ? state.webhooks : itemsOf(await api('GET', 'webhooks?limit=100'));
  for (const webhook of webhooks as { id: string; name?: string; url: string }[])
    names.set(webhook.id, webhook.name || webhook.url);
  await loadFailed();
}

/** The newest failed deliveries, or with more = true the page after those shown. */
async function loadFailed(more = false): Promise<void> {
  const query = new URLSearchParams({ status: 'failed', limit: '20' });
  if (more && cursor) query.set('cursor', cursor);
  const data = await api('GET', `deliveries?${query}`);
  cursor = data?.nextCursor;
  const list = $('wp-failed-list');
  const first = list.children.length;
  if (!more) list.replaceChildren();
  list.append(...itemsOf<FailedRecord>(data).map(row));
  $('wp-failed-empty').hidden = list.children.length > 0;
  $('wp-failed-more').hidden = !cursor;
  if (more) focusIn(list.children[first], 'a');
}

/** One failed delivery: its webhook, event, time, and the latest attempt's status or error. */
function row(record: FailedRecord): HTMLElement {
  const latest = record.attempts?.[0] ?? {};
  const when = record.updatedAt || record.createdAt || latest.startedAt;
  const id = record.webhookId ?? '';
  const outcome =
    latest.status !== undefined
      ? `HTTP ${latest.status}`
      : latest.error
        ? `${latest.error.code ?? 'Error'}: ${latest.error.message ?? ''}`
        : 'Failed';
  return el(
    'li',
    { 'data-failed': record.deliveryId, 'data-webhook-id': id },
    el(
      'div',
      { class: 'wp-log-head' },
      el('span', { class: 'wp-badge wp-badge-failed' }, 'Failed'),
      el('a', { href: `#/webhooks/${encodeURIComponent(id)}` }, names.get(id) ?? id),
      el('span', { 'data-failed-outcome': '' }, outcome),
      el(
        'span',
        {},
        'Event ',
        el('code', {}, record.eventType || 'no type'),
        ' ',
        el('code', {}, record.eventId || ''),
      ),
      when ? el('time', { datetime: when }, new Date(when).toLocaleString()) : undefined,
    ),
  );
}

/** Re-sends every failed delivery of the tenant in the window picked, and says how many were queued. */
async function recoverAll(event: Event): Promise<void> {
  event.preventDefault();
  const button = $<HTMLButtonElement>('wp-failed-recover-submit');
  button.disabled = true;
  try {
    const ms = Number($<HTMLSelectElement>('wp-failed-since').value);
    const answer = await api('POST', 'deliveries/recover', {
      since: new Date(Date.now() - ms).toISOString(),
    });
    const queued = answer && typeof answer.queued === 'number' ? answer.queued : 0;
    const text = `${queued} ${queued === 1 ? 'delivery' : 'deliveries'} queued for re-sending.`;
    const result = $('wp-failed-result');
    result.textContent = text;
    result.hidden = false;
    announce(text);
    await loadFailed();
  } catch (error) {
    showAlert(messageOf(error));
  } finally {
    button.disabled = false;
  }
}
