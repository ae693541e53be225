/**
 * The root entry, `webhook-dispatcher`: what a sender of webhooks calls.
 *
 * @module webhook-dispatcher
 */

// The public API for people who send webhooks, listed explicitly (about 50 names; a test keeps it at most 60).
// The pieces for people who write stores, queues, delivery logs, transports and instrumentation live in
// `webhook-dispatcher/extend` (src/extend.ts). Internals (the webhook index, request building, compile steps) are
// left out of both on purpose: they change without notice.

// Errors: the base class, the ones a sender catches by class, and name-based guards that work across copies.
// Every other error is a `WebhookError` with a stable `code`; their classes are in `/extend`.
export type { WebhookErrorCode } from './core/errors.js';
export {
  DispatcherClosedError,
  isWebhookError,
  SignatureVerificationError,
  WebhookError,
  WebhookNotFoundError,
  WebhookValidationError,
} from './core/errors.js';
export { toLogger } from './core/logger.js';
export type {
  DeliveryError,
  DeliveryResult,
  Logger,
  Statement,
  Transport,
  Webhook,
  WebhookEvent,
  WebhookInput,
  WebhookPatch,
  WebhookStore,
} from './core/types.js';
export { VERSION } from './core/version.js';
export type { HealthOptions } from './delivery/health.js';
export type { RetryOptions } from './delivery/retry.js';
export { SVIX_RETRY_SCHEDULE } from './delivery/retry.js';
export type {
  EmitOptions,
  PreviewRequest,
  WebhookDispatcher,
  WebhookDispatcherOptions,
} from './dispatcher/dispatcher.js';
export { createWebhookDispatcher } from './dispatcher/dispatcher.js';
export type { WebhookHealthEvent } from './dispatcher/dispatcher-events.js';
export { LAUNCHDARKLY_EVENT_KINDS } from './events/catalogs/launchdarkly.js';
export { UNLEASH_EVENT_TYPES } from './events/catalogs/unleash.js';
export type { EventCatalog } from './events/event-catalog.js';
export { defineEventCatalog } from './events/event-catalog.js';
export type {
  DeliveryLog,
  DeliveryLogStats,
  DeliveryPage,
  DeliveryQuery,
  DeliveryRecord,
  WebhookDeliveryStats,
} from './log/delivery-log.js';
export { memoryDeliveryLog } from './log/delivery-log.js';
export { generateSecret, signPayload, verifySignature } from './rendering/sign.js';
export type { SigningKeyPair } from './rendering/signing-keys.js';
export { createSigningKeyPair } from './rendering/signing-keys.js';
export {
  generateStandardSecret,
  signStandardWebhook,
  verifyStandardWebhook,
} from './rendering/standard-webhooks.js';
export type { Explanation } from './routing/matching.js';
export { DEFAULT_STATEMENTS } from './routing/policy/defaults.js';
export { createPolicyMatcher } from './routing/policy/matcher.js';
export type { ClientCertificate } from './transport/client-certificate.js';
export { isTransportError, TransportError } from './transport/errors.js';
export { fetchTransport } from './transport/fetch.js';
export { httpTransport } from './transport/http.js';
export { classifyAddress, createAddressPolicy, guardedLookup } from './transport/ssrf.js';
export { memoryStore } from './webhooks/memory-store.js';
