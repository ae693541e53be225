import type { Webhook } from '../core/types.js';
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

/**
 * The read representation: listed fields only (so a field added to records later is not shown by accident),
 * `signed` instead of the secret, credential-like header values redacted.
 */
export function toView(webhook: StoredWebhook): WebhookView {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(webhook.headers ?? {})) {
    headers[name] = isSensitiveHeader(name) ? REDACTED : value;
  }
  const view: WebhookView = {
    id: webhook.id,
    url: webhook.url,
    on: webhook.on,
    signed: typeof webhook.secret === 'string',
    signatureScheme: webhook.signatureScheme,
    events: [...(webhook.events ?? [])],
    contentType: webhook.contentType,
    headers,
    tags: [...(webhook.tags ?? [])],
    createdAt: webhook.createdAt,
    updatedAt: webhook.updatedAt,
  };
  if (webhook.tenant !== undefined) view.tenant = webhook.tenant;
  if (webhook.name !== undefined) view.name = webhook.name;
  if (webhook.statements !== undefined) view.statements = structuredClone(webhook.statements);
  if (webhook.bodyTemplate !== undefined) view.bodyTemplate = webhook.bodyTemplate;
  if (webhook.templateEscape !== undefined) view.templateEscape = webhook.templateEscape;
  if (webhook.rateLimit !== undefined) view.rateLimit = webhook.rateLimit;
  if (webhook.disabled !== undefined)
    view.disabled = { at: webhook.disabled.at, reason: webhook.disabled.reason };
  // Key order as in the schema, for readable responses.
  return Object.fromEntries(
    [
      'id',
      'tenant',
      'name',
      'url',
      'on',
      'signed',
      'signatureScheme',
      'statements',
      'events',
      'contentType',
      'bodyTemplate',
      'templateEscape',
      'headers',
      'tags',
      'rateLimit',
      'disabled',
      'createdAt',
      'updatedAt',
    ]
      .filter((key) => key in view)
      .map((key) => [key, view[key as keyof WebhookView]]),
  ) as WebhookView;
}

/** `WebhookInput` fields a saved webhook carries. */
const INPUT_FIELDS = [
  'url',
  'name',
  'on',
  'secret',
  'signatureScheme',
  'statements',
  'events',
  'contentType',
  'bodyTemplate',
  'templateEscape',
  'headers',
  'tags',
  'rateLimit',
] as const;

/** The fields of a saved webhook as `create` would take them, for previewing an edit. */
export function savedInput(saved: StoredWebhook): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const key of INPUT_FIELDS) if (saved[key] !== undefined) input[key] = saved[key];
  return input;
}
