import { X509Certificate } from 'node:crypto';
import type { Webhook } from '../core/types.js';
import {
  SAVED_INPUT_FIELDS,
  VIEW_FIELDS,
  WEBHOOK_FIELDS,
  type WebhookFieldName,
} from '../core/webhook-fields.js';
import { publicKeyOf } from '../extend.js';
import { isSensitiveHeader } from '../rendering/sensitive-headers.js';
import type { CertificateView, WebhookView } from './schemas.js';

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
  // An Ed25519 signing key is the host's private key: reads show the public key receivers verify with.
  publicKey: (webhook) => publicKeyOf(webhook.secret),
  certificate: (webhook) => certificateView(webhook.clientCertificate?.cert),
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

/** The leaf certificate's public facts (parsed on each read); nothing when it does not parse. */
function certificateView(cert: string | undefined): CertificateView | undefined {
  if (typeof cert !== 'string') return undefined;
  try {
    const x509 = new X509Certificate(cert);
    return {
      subject: x509.subject,
      issuer: x509.issuer,
      fingerprint256: x509.fingerprint256,
      validFrom: new Date(x509.validFrom).toISOString(),
      validTo: new Date(x509.validTo).toISOString(),
    };
  } catch {
    return undefined;
  }
}

/**
 * The read representation: the declared view fields only (so a field added to records later is not shown by
 * accident), in the declaration's order; `signed` (and `publicKey` for an Ed25519 key) instead of the secret,
 * `certificate` instead of the client certificate, credential-like header values redacted.
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

/**
 * The secret a response that set or generated it shows once: an HMAC secret (`whsec_…`, LaunchDarkly's), which the
 * receiver needs. An Ed25519 signing key (`whsk_…`) stays with the host: the view's `publicKey` is what receivers need.
 */
export function shownSecret(webhook: StoredWebhook): { secret?: string } {
  if (webhook.secret === undefined || webhook.secret.startsWith('whsk_')) return {};
  return { secret: webhook.secret };
}
