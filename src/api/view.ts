import type { Webhook } from '../core/types.js';
import {
  SAVED_INPUT_FIELDS,
  VIEW_FIELDS,
  WEBHOOK_FIELDS,
  type WebhookFieldName,
} from '../core/webhook-fields.js';
import { isSensitiveHeader } from '../rendering/sensitive-headers.js';
import type { WebhookView } from './schemas.js';

/** A header value shown in place of a credential on reads. Writing it back keeps the saved value. */
export const REDACTED = '<redacted>';

/** A saved webhook with the fields the dispatcher adds for tenants and health (Part 2). */
export type StoredWebhook = Webhook & {
  tenant?: string;
  rateLimit?: number;
  disabled?: { at: string; reason: string };
};

/** How a read shows the fields that are not shown as saved: a derived flag, redacted values, a subset. */
const SHOWN: Partial<Record<WebhookFieldName, (webhook: StoredWebhook) => unknown>> = {
  signed: (webhook) => typeof webhook.secret === 'string',
  headers: (webhook) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(webhook.headers ?? {})) {
      headers[name] = isSensitiveHeader(name) ? REDACTED : value;
    }
    return headers;
  },
  disabled: ({ disabled }) =>
    disabled === undefined ? undefined : { at: disabled.at, reason: disabled.reason },
};

/**
 * The read representation: the declared view fields only (so a field added to records later is not shown by
 * accident), in the declaration's order; `signed` instead of the secret, credential-like header values redacted.
 */
export function toView(webhook: StoredWebhook): WebhookView {
  const view: Record<string, unknown> = {};
  for (const name of VIEW_FIELDS) {
    const shown = SHOWN[name];
    const saved = shown ? shown(webhook) : (webhook as unknown as Record<string, unknown>)[name];
    const value = saved ?? (WEBHOOK_FIELDS[name] as { default?: unknown }).default;
    if (value !== undefined) view[name] = typeof value === 'object' ? structuredClone(value) : value;
  }
  return view as WebhookView;
}

/** The fields of a saved webhook as `create` would take them, for previewing an edit. */
export function savedInput(saved: StoredWebhook): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const key of SAVED_INPUT_FIELDS) {
    const value = (saved as unknown as Record<string, unknown>)[key];
    if (value !== undefined) input[key] = value;
  }
  return input;
}
