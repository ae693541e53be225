import type { DeliveryErrorCode } from './types.js';

/**
 * Stable error codes of the library's own errors. They are part of the public API: match on `error.code`, never
 * on the message.
 */
export type WebhookErrorCode =
  /** A webhook's configuration was refused at save time (`field` names the offending field). */
  | 'ERR_INVALID_WEBHOOK'
  /** A policy statement or resource specifier is malformed. */
  | 'ERR_INVALID_POLICY'
  /** A Mustache body template does not parse. */
  | 'ERR_INVALID_TEMPLATE'
  /** `emit()` was given something that is not an event object. */
  | 'ERR_INVALID_EVENT'
  /** Options of a factory (`createWebhookDispatcher`, `httpTransport`, ...) are invalid or unknown. */
  | 'ERR_INVALID_OPTIONS'
  /** No webhook with that id. */
  | 'ERR_WEBHOOK_NOT_FOUND'
  /** No delivery with that id (`deliveries.get`, `deliveries.redeliver`). */
  | 'ERR_DELIVERY_NOT_FOUND'
  /** The dispatcher was closed. */
  | 'ERR_DISPATCHER_CLOSED'
  /** A URL or address was refused by the SSRF guard. */
  | 'ERR_BLOCKED_ADDRESS'
  /** A tenant already has as many webhooks as it may have (409 in the admin API). */
  | 'ERR_TENANT_LIMIT'
  /** `emit(event, { transaction })` on a queue that cannot write inside the host's transaction. */
  | 'ERR_TRANSACTION_UNSUPPORTED'
  /** The store (or a durable queue's database) did not answer within its deadline. */
  | 'ERR_STORE_TIMEOUT'
  /** The store (or a durable queue's database) failed; the original error is in `cause`. */
  | 'ERR_STORE_FAILED'
  /** A signature did not verify (receiver-side helpers). */
  | 'ERR_SIGNATURE_INVALID'
  /** A Standard Webhooks timestamp is too old or too far in the future. */
  | 'ERR_TIMESTAMP_OUT_OF_TOLERANCE'
  /** Required signature headers are missing. */
  | 'ERR_MISSING_HEADERS'
  /** A receiver saw this `webhook-id` before (`webhook-dispatcher/receiver` with a `dedupe` store). */
  | 'ERR_DUPLICATE_DELIVERY'
  /** A received body is larger than the receiver's `maxBodyBytes`. */
  | 'ERR_BODY_TOO_LARGE'
  /** A received body is not the JSON the receiver expects. */
  | 'ERR_INVALID_PAYLOAD'
  /** A tenant already has `maxWebhooksPerTenant` webhooks. */
  | 'ERR_TENANT_LIMIT'
  /** No delivery with that id in the delivery log. */
  | 'ERR_DELIVERY_NOT_FOUND'
  /** The queue cannot write inside the host's transaction (`emit(event, { transaction })`). */
  | 'ERR_TRANSACTION_UNSUPPORTED'
  /** `emit(event, { transaction })` could not write its deliveries in the host's transaction; roll it back. */
  | 'ERR_ENQUEUE_FAILED'
  /** The webhook store did not answer within `storeTimeoutMs`. */
  | 'ERR_STORE_TIMEOUT'
  /** The webhook store failed (threw, rejected or answered something that is not a webhook list). */
  | 'ERR_STORE_FAILED'
  /** The webhook is switched off (a redelivery without `force`). */
  | 'ERR_WEBHOOK_DISABLED'
  /** A pluggable part lacks an optional method the call needs (a custom delivery log without `search`); the message names it. */
  | 'ERR_UNSUPPORTED';

/**
 * The `code` of any `WebhookError`: one of the library's own {@link WebhookErrorCode}s, or, on a
 * `TransportError`, the delivery code of a failed attempt (`TIMEOUT`, `ECONNRESET`, a custom transport's own).
 */
export type AnyWebhookErrorCode = WebhookErrorCode | DeliveryErrorCode | (string & {});

// `instanceof` compares prototypes, so it fails between two copies of the package in one process (the ESM and the
// CJS build, or two versions in node_modules). Every class has a brand from the global symbol registry instead,
// shared by every copy; an instance carries the brands of its class and of each class above it, and
// `Symbol.hasInstance` checks the brand (undici does the same for its errors).
const BASE_BRAND = 'webhook-dispatcher.error';
const brands = new WeakMap<object, symbol>();

/**
 * Gives an error class its brand (call it in a `static {}` block). For the library's own classes only.
 * @internal
 */
export function brand(errorClass: object, name: string): void {
  brands.set(errorClass, Symbol.for(name === 'WebhookError' ? BASE_BRAND : `${BASE_BRAND}.${name}`));
}

function markInstance(error: Error, leaf: object): void {
  for (let c: object | null = leaf; c !== null && c !== Error; c = Object.getPrototypeOf(c)) {
    const mark = brands.get(c);
    if (mark !== undefined) Object.defineProperty(error, mark, { value: true });
  }
}

function hasBrand(errorClass: object, value: unknown): boolean {
  const mark = brands.get(errorClass);
  // A subclass defined outside the library has no brand: the ordinary prototype check applies to it.
  if (mark === undefined) return Function.prototype[Symbol.hasInstance].call(errorClass, value);
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[mark] === true;
}

/**
 * Base class of every error this library throws. Subclasses carry a stable `code`. `instanceof` works across the
 * ESM and CJS builds of the package (and across two copies of it): the check reads a `Symbol.for` brand.
 *
 * @example
 * try { await dispatcher.webhooks.create({ url: 'ftp://x' }) }
 * catch (error) { if (error instanceof WebhookError) console.log(error.code) }
 */
export class WebhookError extends Error {
  static {
    brand(WebhookError, 'WebhookError');
  }
  override name = 'WebhookError';
  readonly code: AnyWebhookErrorCode;

  constructor(code: AnyWebhookErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    markInstance(this, new.target);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of `instanceof`.
    return hasBrand(this, value);
  }
}

/**
 * Whether `value` is an error thrown by this library, from any copy of it (same as `instanceof WebhookError`).
 */
export function isWebhookError(value: unknown): value is WebhookError {
  return value instanceof WebhookError;
}

/** Invalid webhook configuration. `field` is the path of the offending field (`url`, `statements[1].resources[0]`). */
export class WebhookValidationError extends WebhookError {
  static {
    brand(WebhookValidationError, 'WebhookValidationError');
  }
  override name = 'WebhookValidationError';
  declare readonly code: 'ERR_INVALID_WEBHOOK' | 'ERR_INVALID_POLICY' | 'ERR_INVALID_TEMPLATE';
  readonly field: string;

  constructor(
    field: string,
    message: string,
    options?: {
      cause?: unknown;
      code?: 'ERR_INVALID_WEBHOOK' | 'ERR_INVALID_POLICY' | 'ERR_INVALID_TEMPLATE';
    },
  ) {
    super(options?.code ?? 'ERR_INVALID_WEBHOOK', message, options);
    this.field = field;
  }
}

/** A policy statement or resource specifier is malformed. `position` is the 0-based offset in the specifier, if any. */
export class PolicyError extends WebhookValidationError {
  static {
    brand(PolicyError, 'PolicyError');
  }
  override name = 'PolicyError';
  declare readonly code: 'ERR_INVALID_POLICY';
  readonly position: number | undefined;

  constructor(field: string, message: string, position?: number) {
    super(field, message, { code: 'ERR_INVALID_POLICY' });
    this.position = position;
  }
}

/** A body template does not parse. `line` and `column` are 1-based. */
export class TemplateError extends WebhookValidationError {
  static {
    brand(TemplateError, 'TemplateError');
  }
  override name = 'TemplateError';
  declare readonly code: 'ERR_INVALID_TEMPLATE';
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(field: string, message: string, position?: { line: number; column: number }, cause?: unknown) {
    super(field, message, { code: 'ERR_INVALID_TEMPLATE', cause });
    this.line = position?.line;
    this.column = position?.column;
  }
}

/** `emit()` / `preview()` received something that is not an event object. */
export class InvalidEventError extends WebhookError {
  static {
    brand(InvalidEventError, 'InvalidEventError');
  }
  override name = 'InvalidEventError';
  declare readonly code: 'ERR_INVALID_EVENT';
  constructor(message: string) {
    super('ERR_INVALID_EVENT', message);
  }
}

/** Invalid options passed to a factory (`createWebhookDispatcher`, `httpTransport`, ...). */
export class OptionsError extends WebhookError {
  static {
    brand(OptionsError, 'OptionsError');
  }
  override name = 'OptionsError';
  declare readonly code: 'ERR_INVALID_OPTIONS';
  readonly field: string;
  constructor(field: string, message: string) {
    super('ERR_INVALID_OPTIONS', message);
    this.field = field;
  }
}

export class WebhookNotFoundError extends WebhookError {
  static {
    brand(WebhookNotFoundError, 'WebhookNotFoundError');
  }
  override name = 'WebhookNotFoundError';
  declare readonly code: 'ERR_WEBHOOK_NOT_FOUND';
  readonly webhookId: string;
  constructor(method: string, webhookId: string) {
    super('ERR_WEBHOOK_NOT_FOUND', `${method}: no webhook with id "${webhookId}"`);
    this.webhookId = webhookId;
  }
}

export class DispatcherClosedError extends WebhookError {
  static {
    brand(DispatcherClosedError, 'DispatcherClosedError');
  }
  override name = 'DispatcherClosedError';
  declare readonly code: 'ERR_DISPATCHER_CLOSED';
  constructor(method: string) {
    super('ERR_DISPATCHER_CLOSED', `${method}: the dispatcher is closed`);
  }
}

/** Refused by the SSRF guard. */
export class BlockedAddressError extends WebhookError {
  static {
    brand(BlockedAddressError, 'BlockedAddressError');
  }
  override name = 'BlockedAddressError';
  declare readonly code: 'ERR_BLOCKED_ADDRESS';
  /** The refused IP address (or the host name, for `localhost`). */
  readonly address: string;
  /** The host name the address belongs to, when it came from a URL or a DNS answer. */
  readonly hostname: string | undefined;
  /** Name of the blocked range, e.g. `loopback`, `private`, `ipv4Mapped->linkLocal`. */
  readonly range: string | undefined;
  constructor(address: string, message: string, details?: { hostname?: string; range?: string }) {
    super('ERR_BLOCKED_ADDRESS', message);
    this.address = address;
    this.hostname = details?.hostname;
    this.range = details?.range;
  }
}

/** Thrown by `verifyStandardWebhook` (and usable by receivers). */
export class SignatureVerificationError extends WebhookError {
  static {
    brand(SignatureVerificationError, 'SignatureVerificationError');
  }
  override name = 'SignatureVerificationError';
  declare readonly code: 'ERR_SIGNATURE_INVALID' | 'ERR_TIMESTAMP_OUT_OF_TOLERANCE' | 'ERR_MISSING_HEADERS';
  constructor(
    code: 'ERR_SIGNATURE_INVALID' | 'ERR_TIMESTAMP_OUT_OF_TOLERANCE' | 'ERR_MISSING_HEADERS',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

export { describe, errorMessage, errorText, isPlainObject, kindOf } from './describe.js';
