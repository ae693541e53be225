import { $, area, el, field } from './dom.js';
import { selectedEvents } from './events.js';
import { schedulePreview } from './preview.js';
import { state } from './state.js';
import { parseStatements } from './statements.js';
import type { WebhookInput, WebhookView } from './types.js';

/** One editable header: a name, a value and a Remove button. */
export function headerRow(name: string, value: string): HTMLElement {
  const n = $('wp-headers-list').children.length + 1;
  const input = (kind: string, placeholder: string, text: string) =>
    el('input', {
      id: `wp-header-${kind}-${n}`,
      class: `wp-header-${kind}`,
      [`data-header-${kind}`]: '',
      placeholder,
      value: text,
      autocomplete: 'off',
      spellcheck: 'false',
    });
  const row = el(
    'div',
    { class: 'wp-header-row' },
    el('label', { class: 'wp-sr', for: `wp-header-name-${n}` }, `Header ${n} name`),
    input('name', 'Authorization', name),
    el('label', { class: 'wp-sr', for: `wp-header-value-${n}` }, `Header ${n} value`),
    input('value', 'Value', value),
  );
  const remove = el(
    'button',
    { type: 'button', class: 'wp-header-remove', 'aria-label': `Remove header ${n}` },
    'Remove',
  );
  remove.addEventListener('click', () => {
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    state.headersDirty = true;
    schedulePreview();
    (next?.querySelector('input') ?? $('wp-header-add')).focus();
  });
  row.append(remove);
  return row;
}

function headersOf(): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const row of $('wp-headers-list').children) {
    const name = row.querySelector<HTMLInputElement>('[data-header-name]')?.value.trim();
    if (name) headers[name] = row.querySelector<HTMLInputElement>('[data-header-value]')?.value ?? '';
  }
  return headers;
}

export function isSigned(webhook: WebhookView | undefined): boolean {
  return Boolean(webhook && (webhook.sign || webhook.signed || webhook.secret || webhook.hasSecret));
}

/** The webhook as the form has it, and whether its statements parse. */
export function formInput(): { input: WebhookInput; statementsOk: boolean } {
  const name = field('wp-name').value.trim();
  const contentType = field('wp-content-type').value.trim();
  const template = area('wp-template').value;
  const statements = parseStatements();
  const input: WebhookInput = {
    url: field('wp-url').value.trim(),
    sign: field('wp-sign').checked,
    signatureScheme: $<HTMLSelectElement>('wp-scheme').value,
  };
  if (name) input.name = name;
  if (statements.ok && statements.value !== undefined) input.statements = statements.value;
  const events = selectedEvents();
  if (events.length) input.events = events;
  if (contentType) input.contentType = contentType;
  if (template) input.bodyTemplate = template;
  const headers = headersOf();
  if (Object.keys(headers).length) input.headers = headers;
  return { input, statementsOk: statements.ok };
}

const PATCHED = [
  'url',
  'name',
  'signatureScheme',
  'statements',
  'events',
  'contentType',
  'bodyTemplate',
] as const;

/** A merge patch from the saved webhook to the form: cleared fields become null. */
export function patchFrom(webhook: WebhookView, input: WebhookInput): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const key of PATCHED) {
    const now = input[key];
    const before = webhook[key];
    if (JSON.stringify(now) === JSON.stringify(before)) continue;
    if (key === 'events' && now === undefined && (!before || before.length === 0)) continue;
    patch[key] = now === undefined ? null : now;
  }
  // The API's representation says signed; a new scheme gets a secret that fits it.
  if (input.sign !== isSigned(webhook)) patch.signed = input.sign;
  // Saved header values may come back masked: send headers only when they were edited.
  if (state.headersDirty) patch.headers = input.headers || null;
  return patch;
}
