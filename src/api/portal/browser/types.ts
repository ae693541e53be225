/** The shapes the admin API answers with, as far as the page reads them (every field checked before use). */

export interface WebhookView {
  id: string;
  url: string;
  name?: string;
  on: boolean;
  sign?: boolean;
  signed?: boolean;
  secret?: string;
  /** `whpk_…`: the Ed25519 public key of a webhook that signs v1a. */
  publicKey?: string;
  hasSecret?: boolean;
  signatureScheme?: string;
  statements?: unknown[];
  events?: string[];
  contentType?: string;
  bodyTemplate?: string;
  headers?: Record<string, string>;
  disabled?: { reason: string; at?: string };
  failing?: boolean;
  health?: { failing?: boolean; state?: string; status?: string };
}

/** What the form sends: a webhook's editable fields. */
export interface WebhookInput {
  url: string;
  sign: boolean;
  signatureScheme: string;
  name?: string;
  statements?: unknown[];
  events?: string[];
  contentType?: string;
  bodyTemplate?: string;
  headers?: Record<string, string>;
}

export interface CatalogItem {
  type: string;
  description?: string;
  deprecated?: boolean;
}

export interface AttemptView {
  ok?: boolean;
  status?: number;
  durationMs?: number;
  startedAt?: string;
  deliveryId?: string;
  eventId?: string;
  eventType?: string;
  error?: { code?: string; message?: string };
  request?: { url?: string; headers?: Record<string, string>; body?: string; bodyTruncated?: boolean };
  response?: { headers?: Record<string, string | string[] | undefined>; body?: string };
  altered?: string[];
}

export interface DeliveryRecord {
  deliveryId: string;
  eventId?: string;
  eventType?: string;
  status: string;
  createdAt?: string;
  updatedAt?: string;
  attempts: AttemptView[];
}

/** The answer of `test`, `redeliver`: one delivery's outcome. */
export interface DeliveryResult {
  ok?: boolean;
  outcome?: string;
  status?: number;
  error?: { message?: string };
  reason?: string;
  durationMs?: number;
  attempts?: number;
  deliveryId?: string;
}

/** The requests `preview` answers with. */
export interface RequestView {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: string;
}
