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

/** Async CRUD over webhook records, so a database can hold them. */
export interface WebhookStore {
  get(id: string): Promise<Webhook | undefined>;
  list(): Promise<Webhook[]>;
  /** Saves a new record. */
  create(webhook: Webhook): Promise<void>;
  /** Replaces an existing record. */
  update(webhook: Webhook): Promise<void>;
  /** Resolves true when a record was removed. */
  delete(id: string): Promise<boolean>;
  /**
   * Optional: tells the dispatcher about changes made by other processes. `onChange(id)`: that webhook was
   * created, changed or deleted; `onChange()`: anything may have changed (after a reconnect). Returns a stop
   * function. Stores that cannot watch are re-read every `refreshIntervalMs`.
   *
   * `onStatus`, optional: `onStatus(true)` when the watch is in place (just before the `onChange()` that follows
   * each connection), `onStatus(false)` as soon as changes may go unannounced (the connection is lost). A store that
   * reports it lets a durable queue's worker trust its index at send time instead of reading each job's webhook
   * from the store; without it, the store is read.
   */
  watch?(onChange: (id?: string) => void, onStatus?: (live: boolean) => void): () => void | Promise<void>;
  /**
   * Optional: one tenant's webhooks (`null`: the webhooks without a tenant), read with an indexed query. With it, a
   * dispatcher keeps in memory only the tenants it recently emitted for (`maxIndexBytes`) and reads a tenant's
   * webhooks on its first emit; without it, every webhook is read and indexed. `memoryStore`, `postgresStore` and
   * `redisStore` have it.
   */
  listTenant?(tenant: string | null): Promise<Webhook[]>;
  /**
   * Optional: webhooks' open circuits, shared by every process that uses this store, so a receiver found down by
   * one worker is not probed again by each of the others, and auto-disable counts from the first failure any of
   * them saw. `postgresStore` and `redisStore` have it; `memoryStore` does not need it (one process).
   */
  circuits?: CircuitStore;
  /**
   * Optional: saves a new record only while its tenant has fewer than `maxPerTenant` webhooks, as one atomic step
   * for every process that uses the store. Resolves `true` when saved, `false` (nothing saved) when the tenant
   * already has `maxPerTenant`. The dispatcher calls it instead of `create` when `maxWebhooksPerTenant` applies;
   * without it, the count is checked in this process before `create` (so replicas racing may go past the limit).
   * `postgresStore` and `redisStore` have it.
   */
  createWithinTenantLimit?(webhook: Webhook, maxPerTenant: number): Promise<boolean>;
  /**
   * Optional: webhooks' `rateLimit` counted across every process that uses this store, so N workers together send
   * at most `rateLimit` deliveries per second, not N times that. Without it each process limits on its own.
   * `postgresStore` and `redisStore` have it.
   */
  rateLimits?: RateLimitStore;
}

/** Where a store counts delivery starts for `rateLimit` (see `WebhookStore.rateLimits`). */
export interface RateLimitStore {
  /**
   * Takes webhook `id`'s next start slot, in one atomic step: slots are `rateSpacingMicros(perSecond)` apart (by the
   * store's clock) for every process, so any one-second window holds at most `perSecond` starts even after the
   * network shifts them a little. Resolves `0` when the slot was taken (send now), else the ms until the next one
   * frees (nothing taken). Called only for webhooks that have a `rateLimit`.
   */
  take(id: string, perSecond: number): Promise<number>;
}

/** A webhook's open circuit as every process sharing the store sees it. */
export interface SharedCircuit {
  /** Epoch ms from which the next probe may go. */
  probeAt: number;
  /** The wait that led to `probeAt`, in ms; the next failed probe doubles it (up to `health.maxProbeDelayMs`). */
  probeDelayMs: number;
  /** Epoch ms of the first failure after the last success: `health.disableAfterMs` counts from it. */
  failingSince: number;
}

/** Where a store keeps open circuits (see `WebhookStore.circuits`). Records are small: a few numbers per webhook. */
export interface CircuitStore {
  /** Every open circuit, by webhook id: read when a dispatcher starts, and again when `watch` says so. */
  list(): Promise<Record<string, SharedCircuit>>;
  /** Saves webhook `id`'s open circuit, or removes it (`undefined`: the webhook answered again). */
  save(id: string, circuit: SharedCircuit | undefined): Promise<void>;
  /**
   * Optional: `onChange(id, circuit)` after any process saved one (`undefined`: removed), and `onChange()` when
   * anything may have changed (after a reconnect): the dispatcher lists them again. Returns a stop function.
   * Without it the dispatcher lists the circuits every `refreshIntervalMs` (5 s when that is not set).
   */
  watch?(onChange: (id?: string, circuit?: SharedCircuit) => void): () => void | Promise<void>;
}

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
