import type { AbortSignalLike } from './web-types.js';

/**
 * A policy statement as webhooks.create(), webhooks.update(), createPolicyMatcher() and `defaultStatements`
 * accept it. `effect` is any string at compile time because a policy kept in a plain `const` (without
 * `as const` or `satisfies`) widens `'allow'` to `string`; a value other than `'allow'` or `'deny'` is refused
 * when the webhook is saved, with an error naming `statements[i].effect`. Arrays may be readonly. Saved webhooks
 * carry the narrow {@link Statement}.
 *
 * @example
 * const policy = [{ effect: 'allow', actions: ['*'], resources: ['proj/*'] }]; // no `as const` needed
 * await dispatcher.webhooks.create({ url, statements: policy });
 */
export interface StatementInput {
  /** `'allow'` or `'deny'` (checked when saved). */
  effect: 'allow' | 'deny' | (string & {});
  actions?: readonly string[];
  notActions?: readonly string[];
  resources?: readonly string[];
  notResources?: readonly string[];
}

/** One LaunchDarkly policy statement. Exactly one of `actions`/`notActions` and one of `resources`/`notResources`. */
export interface Statement {
  effect: 'allow' | 'deny';
  actions?: string[];
  notActions?: string[];
  resources?: string[];
  notResources?: string[];
}

/** One access of an event: what was done (`updateOn`) to which resource (`proj/default:env/production:flag/f`). */
export interface PolicyAccess {
  action: string;
  resource: string;
}

/**
 * An event as the host passes it: a LaunchDarkly change-history entry, an Unleash event, or any plain object.
 * Only the fields below are read by the dispatcher; everything else is passed through to the body.
 */
export interface WebhookEvent {
  /** Event id (Unleash). Used for `webhook-id` and results. */
  id?: string | number;
  /** Event id (LaunchDarkly). Used when `id` is absent. */
  _id?: string;
  /** Event type for the `events` filter (Unleash: `feature-created`, ...). */
  type?: string;
  /** Accesses for the policy matcher (LaunchDarkly change-history entries carry them). */
  accesses?: PolicyAccess[];
  /** Unleash project; used to derive an access when `accesses` is absent. */
  project?: string | null;
  /** Unleash environment; part of the derived access. */
  environment?: string | null;
  /** Unleash feature name; part of the derived access. */
  featureName?: string | null;
  [key: string]: unknown;
}

/** Which signature headers a webhook sends. */
export type SignatureScheme =
  /** `X-LD-Signature`: hex HMAC-SHA256 of the body (LaunchDarkly). */
  | 'launchdarkly'
  /** `webhook-timestamp` + `webhook-signature` (Standard Webhooks v1; secret must be `whsec_...`). */
  | 'standard'
  /** Both header sets. */
  | 'both';

/** How `{{x}}` is escaped in a body template. `{{{x}}}` is never escaped. */
export type TemplateEscape = 'json' | 'html' | 'none';

/** What `webhooks.create()` accepts. */
export interface WebhookInput {
  /** Absolute http(s) URL the POST goes to. */
  url: string;
  /** Human-readable name. */
  name?: string;
  /** Deliveries happen only while on. @default true */
  on?: boolean;
  /** Sign deliveries. `true` without `secret` generates a random secret (256 bits). @default true when `secret` is set */
  sign?: boolean;
  /** Signing secret; implies `sign: true`. */
  secret?: string;
  /** Which signature headers to send. @default 'launchdarkly' */
  signatureScheme?: SignatureScheme;
  /**
   * LaunchDarkly policy statements. Absent: the dispatcher's `defaultStatements` unless `events` is set; an event
   * without resources (no `accesses`, no `project`) passes that default policy, filtered by type only.
   */
  statements?: readonly StatementInput[];
  /** Event types (exact names or globs such as `change-request-*`). Absent, `[]` or `['*']`: every type. */
  events?: string[];
  /** Content-Type of the body. @default 'application/json' */
  contentType?: string;
  /** Mustache template for the body over `{ event, eventJson, eventMarkdown, webhook }`. Absent: the event's JSON. */
  bodyTemplate?: string;
  /** Escaping of `{{x}}` in `bodyTemplate`. @default by content type: JSON types 'json', text/html 'html', else 'none' */
  templateEscape?: TemplateEscape;
  /** Extra request headers (Authorization, ...). Cannot override the signature, `webhook-*`, Content-Length or Host. */
  headers?: Record<string, string>;
  /**
   * TLS client certificate (PEM) presented to a receiver that requires mutual TLS. Validated when saved (the key
   * must open with `passphrase` and match `cert`); stored like `secret` and never shown (the admin API shows
   * `certificate`: subject, issuer, fingerprint, validity). Sent by `httpTransport` only: `fetchTransport` fails
   * such a delivery, and a custom transport may read `request.clientCertificate`.
   */
  clientCertificate?: {
    /** The certificate chain, PEM (the leaf first, then any intermediates). */
    cert: string;
    /** Its private key, PEM; may be encrypted, with `passphrase`. */
    key: string;
    /** The passphrase of an encrypted `key`. */
    passphrase?: string;
  };
  /** Free-form tags. */
  tags?: string[];
  /**
   * The tenant (your customer) this webhook belongs to. An emit with `{ tenant }` reaches only that tenant's
   * webhooks, an emit without one only webhooks without one. Set at creation; it cannot be changed.
   */
  tenant?: string;
  /** At most this many deliveries per second to this webhook (any one-second window). Absent: no limit. */
  rateLimit?: number;
  /**
   * `'fifo'`: deliveries arrive in emit order, one in flight at a time; a failing one holds those behind it until it
   * is delivered or ends failed. Absent: unordered (the default).
   */
  ordering?: 'fifo';
}

/** What `webhooks.update()` accepts: any subset of the input; `null` clears an optional field. */
export type WebhookPatch = {
  [K in Exclude<keyof WebhookInput, 'tenant'>]?: WebhookInput[K] | (K extends 'url' ? never : null);
};

/** Why a webhook was switched off by the dispatcher (not by a user). */
export interface WebhookDisabled {
  /** ISO-8601 */
  at: string;
  /** `'failing'`: it failed without a success for `health.disableAfterMs`; `'gone'`: it answered `410 Gone`. */
  reason: 'failing' | 'gone' | (string & {});
  /** What was seen: the last failure. */
  detail?: string;
}

/** A saved webhook. */
export interface Webhook {
  id: string;
  url: string;
  name?: string;
  on: boolean;
  secret?: string;
  /**
   * Secrets replaced by an update, still signing (Standard Webhooks scheme only) until `expiresAt`, so receivers
   * can switch secrets without rejecting deliveries. Read-only: maintained by `webhooks.update()`.
   */
  previousSecrets?: { secret: string; expiresAt: string }[];
  signatureScheme: SignatureScheme;
  /** Absent when the webhook relies on the dispatcher's defaults. */
  statements?: Statement[];
  events: string[];
  contentType: string;
  bodyTemplate?: string;
  templateEscape?: TemplateEscape;
  headers: Record<string, string>;
  /** The TLS client certificate (PEM) deliveries present; see `WebhookInput.clientCertificate`. */
  clientCertificate?: { cert: string; key: string; passphrase?: string };
  tags: string[];
  tenant?: string;
  rateLimit?: number;
  ordering?: 'fifo';
  /** Set, with `on: false`, when the dispatcher switched the webhook off; `update(id, { on: true })` clears it. */
  disabled?: WebhookDisabled;
  /** ISO-8601 */
  createdAt: string;
  /** ISO-8601 */
  updatedAt: string;
}

// The store seams (`WebhookStore`, and the shared state a store may keep) live in store-types.ts.
export type { CircuitStore, RateLimitStore, SharedCircuit, WebhookStore } from './store-types.js';

/** The request a transport sends. */
export interface DeliveryRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

/** What a transport resolves with. Any status is a resolution; only network-level failures reject. */
export interface TransportResponse {
  status: number;
  /**
   * Response headers. The built-in transports return lower-case names with one string per header (repeated
   * headers joined with `', '`, `set-cookie` values with `'\n'`); a custom transport may use any case and arrays:
   * the dispatcher lower-cases the names and joins arrays before reading `retry-after` or logging them.
   */
  headers?: Record<string, string | string[] | undefined>;
  /** The start of the response body (transports cap it). */
  body?: string;
}

export interface TransportSendOptions {
  /** Aborted when the attempt times out or the dispatcher is closed with a deadline. */
  signal: AbortSignalLike;
  /**
   * The attempt's total time budget in ms. The built-in transports keep their own deadline from it and honour
   * `signal` as well (an abort ends the request at once, with `TIMEOUT` or `ABORTED` from the signal's reason).
   */
  timeoutMs: number;
}

/** Sends one HTTP request. Replace it to deliver through a queue, a proxy or a recorder. */
export interface Transport {
  send(request: DeliveryRequest, options: TransportSendOptions): Promise<TransportResponse>;
  /** Waits for requests in flight, then releases connections. */
  close?(): Promise<void>;
  /** Ends requests in flight at once (used when `dispatcher.close({ deadlineMs })` runs out of time). */
  destroy?(): Promise<void>;
}

/** Stable codes of failed deliveries. Network errors carry the system code instead (`ECONNREFUSED`, ...). */
export type DeliveryErrorCode =
  | 'HTTP_STATUS'
  | 'REDIRECT'
  | 'TIMEOUT'
  | 'BLOCKED_ADDRESS'
  | 'BODY_TOO_LARGE'
  | 'RENDER_FAILED'
  | 'QUEUE_FULL'
  /** The webhook's circuit is open and `health.maxQueuedWhileOpen` deliveries already wait for it; not sent. */
  | 'CIRCUIT_OPEN'
  /** A durable queue could not persist the job (its store, e.g. Redis, refused or was unreachable); not sent. */
  | 'ENQUEUE_FAILED'
  | 'ABORTED'
  /** The webhook has a `clientCertificate` and the transport (`fetchTransport`) cannot present one; not retried. */
  | 'CLIENT_CERTIFICATE_UNSUPPORTED'
  /** The receiver answered something that is not HTTP. */
  | 'INVALID_RESPONSE'
  | 'TRANSPORT_ERROR';

export interface DeliveryError {
  code: DeliveryErrorCode | (string & {});
  message: string;
}

interface DeliveryResultBase {
  /** Value of the `webhook-id` header, the same on every attempt. */
  deliveryId: string;
  webhookId: string;
  eventId: string;
  /** The tenant of the emit, when it had one. */
  tenant?: string;
  /** HTTP attempts made (0 when nothing was sent). */
  attempts: number;
  /** From the start of the first attempt to the final outcome. */
  durationMs: number;
}

/** A 2xx was received. */
export interface DeliveredResult extends DeliveryResultBase {
  ok: true;
  outcome: 'delivered';
  /** The 2xx status received. */
  status: number;
  error?: undefined;
  reason?: undefined;
}

/** Every attempt failed, or the delivery could not be sent at all (`attempts: 0`). */
export interface FailedResult extends DeliveryResultBase {
  ok: false;
  outcome: 'failed';
  /** Last HTTP status received, if any. */
  status?: number;
  error: DeliveryError;
  reason?: undefined;
}

/** Nothing was sent, on purpose: the webhook was deleted or switched off before its turn. */
export interface SkippedResult extends DeliveryResultBase {
  ok: false;
  outcome: 'skipped';
  status?: undefined;
  error?: undefined;
  /** Why nothing was sent. */
  reason: string;
}

/** A durable queue persisted the delivery; a worker will send it. */
export interface QueuedResult extends DeliveryResultBase {
  ok: false;
  outcome: 'queued';
  status?: undefined;
  error?: undefined;
  reason?: undefined;
}

/** The final outcome of one (event, webhook) delivery; narrow on `outcome` (or `ok`). */
export type DeliveryResult = DeliveredResult | FailedResult | SkippedResult | QueuedResult;

/** Silent by default; pass `console` or any logger with some of these methods. */
export interface Logger {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

/**
 * `onDelivery`'s type. It is called, not awaited: the return type accepts what a synchronous callback returns
 * (`(r) => results.push(r)`, `console.log`) but not a promise, so an `async` callback, whose rejection would go
 * unhandled by the caller and whose work would outlive `close()`, is a type error. At run time a returned
 * promise's rejection is caught and logged anyway.
 *
 * @example onDelivery: (result) => metrics.count(result.outcome)
 */
export type OnDelivery = (result: DeliveryResult) => NotAPromise;

/** Any value but a thenable. */
export type NotAPromise =
  // biome-ignore lint/suspicious/noConfusingVoidType: `void` lets callbacks declared `=> void` through.
  void | undefined | null | string | number | boolean | bigint | symbol | { then?: never };
