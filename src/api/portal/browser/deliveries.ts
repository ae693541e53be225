import { api, messageOf, path } from './api.js';
import { $, el, field, focusIn } from './dom.js';
import { formatRequest } from './preview.js';
import { announce, current, showAlert, state } from './state.js';
import type { AttemptView, DeliveryRecord, DeliveryResult } from './types.js';

/** One line for a delivery's outcome: `Failed · HTTP 500 · 12 ms · 1 attempt`. */
export function describeResult(result: DeliveryResult): string {
  const parts = [result.ok ? 'Delivered' : result.outcome === 'skipped' ? 'Skipped' : 'Failed'];
  if (result.status !== undefined) parts.push(`HTTP ${result.status}`);
  if (result.error?.message) parts.push(result.error.message);
  if (result.reason) parts.push(result.reason);
  if (typeof result.durationMs === 'number') parts.push(`${Math.round(result.durationMs)} ms`);
  if (result.attempts) parts.push(result.attempts + (result.attempts === 1 ? ' attempt' : ' attempts'));
  return parts.join(' · ');
}

/** A log answering with attempts rather than records: each attempt is shown as a record of its own. */
function recordOf(item: DeliveryRecord | AttemptView): DeliveryRecord {
  if ('attempts' in item && Array.isArray(item.attempts)) return item as DeliveryRecord;
  const attempt = item as AttemptView;
  return {
    deliveryId: attempt.deliveryId ?? '',
    eventId: attempt.eventId,
    eventType: attempt.eventType,
    status: attempt.ok ? 'delivered' : 'failed',
    createdAt: attempt.startedAt,
    attempts: [attempt],
  };
}

export function formatResponse(attempt: AttemptView): string {
  const lines: string[] = [];
  if (attempt.status !== undefined) lines.push(`HTTP ${attempt.status}`);
  if (attempt.error) lines.push(`Error ${attempt.error.code}: ${attempt.error.message}`);
  const response = attempt.response || {};
  for (const [name, value] of Object.entries(response.headers || {})) {
    if (value !== undefined) lines.push(`${name}: ${Array.isArray(value) ? value.join(', ') : value}`);
  }
  return lines.join('\n') + (response.body ? `\n\n${response.body}` : '');
}

function deliveriesUrl(cursor: string | undefined): string {
  const query = new URLSearchParams({ limit: '20' });
  const status = $<HTMLSelectElement>('wp-deliveries-status').value;
  if (status) query.set('status', status);
  if (cursor) query.set('cursor', cursor);
  return `${path('webhooks', current().id, 'deliveries')}?${query}`;
}

/** Loads the newest deliveries, or with more = true the next page after those shown. */
export async function loadDeliveries(more = false): Promise<DeliveryRecord[]> {
  if (!state.current) return [];
  const data = await api('GET', deliveriesUrl(more ? state.deliveriesCursor : undefined));
  const records = itemsOfRecords(data);
  state.deliveriesCursor = data?.nextCursor;
  const list = $('wp-deliveries-list');
  const first = list.children.length;
  if (!more) list.replaceChildren();
  list.append(...records.map(deliveryItem));
  $('wp-deliveries-empty').textContent = 'No deliveries.';
  $('wp-deliveries-empty').hidden = list.children.length > 0;
  $('wp-deliveries-more').hidden = !state.deliveriesCursor;
  if (more) focusIn(list.children[first], 'button');
  return records;
}

function itemsOfRecords(data: unknown): DeliveryRecord[] {
  const items = Array.isArray(data) ? data : (data as { items?: unknown } | undefined)?.items;
  return Array.isArray(items) ? items.map(recordOf) : [];
}

function redeliverButton(record: DeliveryRecord): HTMLElement {
  const button = el(
    'button',
    { type: 'button', 'data-redeliver': record.deliveryId },
    'Redeliver',
  ) as HTMLButtonElement;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const result: DeliveryResult = await api('POST', path('deliveries', record.deliveryId, 'redeliver'));
      announce(`Redelivered: ${describeResult(result)}`);
      await loadDeliveries();
      document.querySelector<HTMLElement>(`[data-redeliver="${CSS.escape(record.deliveryId)}"]`)?.focus();
    } catch (error) {
      button.disabled = false;
      showAlert(messageOf(error));
    }
  });
  return button;
}

/** A delivery's row: outcome, status, duration, the event it carried, when, attempts; then its request and response. */
function deliveryItem(record: DeliveryRecord): HTMLElement {
  const latest: AttemptView = record.attempts[0] || {};
  const ok = record.status === 'delivered';
  const when = record.updatedAt || record.createdAt || latest.startedAt;
  const attempts = record.attempts.length;
  return el(
    'li',
    { 'data-delivery': record.deliveryId, 'data-status': record.status },
    el(
      'div',
      { class: 'wp-log-head' },
      el(
        'span',
        { class: `wp-badge ${ok ? 'wp-badge-ok' : 'wp-badge-failed'}` },
        ok ? 'Delivered' : 'Failed',
      ),
      latest.status !== undefined
        ? el('span', {}, `HTTP ${latest.status}`)
        : latest.error
          ? el('span', {}, latest.error.code)
          : undefined,
      typeof latest.durationMs === 'number'
        ? el('span', {}, `${Math.round(latest.durationMs)} ms`)
        : undefined,
      el(
        'span',
        { 'data-delivery-event': '' },
        'Event ',
        el('code', {}, record.eventType || 'no type'),
        ' ',
        el('code', {}, record.eventId || ''),
      ),
      when ? el('time', { datetime: when }, new Date(when).toLocaleString()) : undefined,
      el('span', { class: 'wp-muted' }, attempts + (attempts === 1 ? ' attempt' : ' attempts')),
      redeliverButton(record),
    ),
    exchange(latest),
  );
}

/** The request and response of an attempt, folded. */
function exchange(latest: AttemptView): HTMLElement {
  const request = latest.request || {};
  const requestText = formatRequest({
    method: 'POST',
    url: request.url,
    headers: request.headers,
    body: request.body,
  });
  return el(
    'details',
    {},
    el('summary', {}, 'Request and response'),
    el('h4', {}, 'Request'),
    el(
      'pre',
      { class: 'wp-pre', tabindex: '0' },
      requestText + (request.bodyTruncated ? '\n[truncated]' : ''),
    ),
    el('h4', {}, 'Response'),
    el('pre', { class: 'wp-pre', tabindex: '0' }, formatResponse(latest) || 'No response'),
    latest.altered && latest.altered.length > 0
      ? el(
          'p',
          { class: 'wp-muted', 'data-altered': '' },
          `Not kept as received: ${latest.altered.join(', ')}` +
            ' (characters the log cannot store are shown as \uFFFD; a field that is missing was dropped because the log refused the full record).',
        )
      : undefined,
  );
}

/** Sends the open webhook a test event and shows the outcome and the receiver's response. */
export async function sendTest(): Promise<void> {
  const webhook = current();
  const button = $<HTMLButtonElement>('wp-test');
  button.disabled = true;
  const output = $('wp-test-output');
  $('wp-test-result').hidden = false;
  output.replaceChildren(el('p', {}, 'Sending…'));
  try {
    const result: DeliveryResult = await api('POST', path('webhooks', webhook.id, 'test'));
    const records = await loadDeliveries();
    const record = records.find((item) => item.deliveryId === result.deliveryId);
    const attempt = record?.attempts[0];
    // Without a response there is nothing after the outcome (replaceChildren would print `undefined`).
    output.replaceChildren(
      el(
        'p',
        { class: result.ok ? 'wp-badge wp-badge-ok' : 'wp-badge wp-badge-failed' },
        describeResult(result),
      ),
      ...(attempt?.response
        ? [el('h4', {}, 'Response'), el('pre', { class: 'wp-pre', tabindex: '0' }, formatResponse(attempt))]
        : []),
    );
    announce(`Test: ${describeResult(result)}`);
  } catch (error) {
    output.replaceChildren(el('p', { class: 'wp-error' }, messageOf(error)));
  } finally {
    button.disabled = false;
  }
}

/** Re-sends the open webhook's failed deliveries since the time picked. */
export async function recover(event: Event): Promise<void> {
  event.preventDefault();
  const since = field('wp-recover-since');
  if (!since.value) {
    since.focus();
    return;
  }
  const button = $<HTMLButtonElement>('wp-recover-submit');
  button.disabled = true;
  try {
    const body = { since: new Date(since.value).toISOString() };
    const answer = await api('POST', path('webhooks', current().id, 'recover'), body);
    const queued = answer && typeof answer.queued === 'number' ? answer.queued : 0;
    // The re-sends go on through the webhook's lane: Refresh shows them progressing.
    announce(
      `${queued} ${queued === 1 ? 'delivery' : 'deliveries'} queued for re-sending. Refresh to follow them.`,
    );
    await loadDeliveries();
  } catch (error) {
    showAlert(messageOf(error));
  } finally {
    button.disabled = false;
  }
}
