// The public API, listed explicitly. Internals (the webhook index, request building, compile steps) are left out
// on purpose: they change without notice.

// `within` is for integrations too: one deadline helper for every call to a store, a broker or a database.
export { within } from './core/deadline.js';
export type { AnyWebhookErrorCode, WebhookErrorCode } from './core/errors.js';
export {
  BlockedAddressError,
  DispatcherClosedError,
  InvalidEventError,
  isWebhookError,
  OptionsError,
  PolicyError,
  SignatureVerificationError,
  TemplateError,
  WebhookError,
  WebhookNotFoundError,
  WebhookValidationError,
} from './core/errors.js';
export type { LoggerStyle, ToLoggerOptions } from './core/logger.js';
export { toLogger } from './core/logger.js';
// `numberOption` is for integrations (queues, stores, transports): one validator and one message pattern for
// numeric options, ``Expected `x` to be a positive integer of at most N, got -1``.
export { numberOption } from './core/option-checks.js';
export type {
  CircuitStore,
  DeliveredResult,
  DeliveryError,
  DeliveryErrorCode,
  DeliveryRequest,
  DeliveryResult,
  FailedResult,
  Logger,
  PolicyAccess,
  QueuedResult,
  RateLimitStore,
  SharedCircuit,
  SignatureScheme,
  SkippedResult,
  Statement,
  TemplateEscape,
  Transport,
  TransportResponse,
  TransportSendOptions,
  Webhook,
  WebhookDisabled,
  WebhookEvent,
  WebhookInput,
  WebhookPatch,
  WebhookStore,
} from './core/types.js';
export { VERSION } from './core/version.js';
export type { HealthOptions } from './delivery/health.js';
export type {
  AttemptEnd,
  AttemptInfo,
  AttemptSpan,
  EmitInfo,
  EngineGauges,
  Instrumentation,
} from './delivery/instrumentation.js';
export type {
  AttemptStep,
  DeliveryEngine,
  DeliveryJob,
  DeliveryQueue,
  DeliveryReporter,
  DeliveryWorker,
  EnqueueOptions,
} from './delivery/queue.js';
// `unsentResult` is for DeliveryQueue implementations: the outcome of a job that was queued or refused.
export { memoryQueue, unsentResult } from './delivery/queue.js';
// For WebhookStore implementations whose `rateLimits` are shared between processes.
export { rateSpacingMicros } from './delivery/rate-spacing.js';
export type {
  AttemptOutcome,
  RetryOn,
  RetryOptions,
  RetryPolicy,
  RetryPolicyContext,
} from './delivery/retry.js';
export { SVIX_RETRY_SCHEDULE } from './delivery/retry.js';
export type {
  EmitOptions,
  PreviewRequest,
  RecoverOptions,
  RedeliverOptions,
  WebhookDispatcher,
  WebhookDispatcherOptions,
} from './dispatcher/dispatcher.js';
export { createWebhookDispatcher, deliveryIdFor } from './dispatcher/dispatcher.js';
export type {
  DispatcherEventName,
  DispatcherEvents,
  DispatcherListener,
  WebhookHealthEvent,
} from './dispatcher/dispatcher-events.js';
export {
  LAUNCHDARKLY_ACTIONS,
  LAUNCHDARKLY_ENTRY_SCHEMA,
  LAUNCHDARKLY_EVENT_KINDS,
} from './events/catalogs/launchdarkly.js';
export { UNLEASH_EVENT_SCHEMA, UNLEASH_EVENT_TYPES } from './events/catalogs/unleash.js';
export type {
  EventCatalog,
  EventCatalogDefinition,
  EventFormat,
  EventTypeDefinition,
} from './events/event-catalog.js';
export {
  defineEventCatalog,
  isEventCatalog,
  sampleEventFrom,
  suggest,
  validateEventTypes,
  validateTemplateFields,
} from './events/event-catalog.js';
export type {
  DeliveryAttempt,
  DeliveryLog,
  DeliveryLogStats,
  DeliveryPage,
  DeliveryQuery,
  DeliveryRecord,
  DeliveryStatus,
  MemoryDeliveryLog,
  MemoryDeliveryLogOptions,
} from './log/delivery-log.js';
// For DeliveryLog implementations (Redis, Postgres, your own): one query validation and one cursor format.
export {
  decodeDeliveryCursor,
  encodeDeliveryCursor,
  memoryDeliveryLog,
  type NormalizedDeliveryQuery,
  normalizeDeliveryAttempt,
  normalizeDeliveryQuery,
  requestForLog,
} from './log/delivery-log.js';
export { assertSignature, generateSecret, signPayload, verifySignature } from './rendering/sign.js';
export type {
  SignStandardWebhookOptions,
  StandardWebhookHeaders,
  StandardWebhookSecret,
  VerifyStandardWebhookOptions,
} from './rendering/standard-webhooks.js';
export {
  generateStandardSecret,
  signStandardWebhook,
  standardSignatureHeader,
  verifyStandardWebhook,
} from './rendering/standard-webhooks.js';
export type { RenderOptions, TemplateContext, TemplateWebhook } from './rendering/template.js';
export { TemplateBudgetError } from './rendering/template.js';
export { MAX_ACCESSES } from './routing/event.js';
export type { ExplainReason, Explanation } from './routing/matching.js';
export { DEFAULT_STATEMENTS } from './routing/policy/defaults.js';
export type { PolicyMatcher, PolicyMatcherOptions } from './routing/policy/matcher.js';
export { createPolicyMatcher } from './routing/policy/matcher.js';
export { isTransportError, TransportError } from './transport/errors.js';
export type { FetchTransportOptions } from './transport/fetch.js';
export { fetchTransport } from './transport/fetch.js';
export type { HttpTransportOptions } from './transport/http.js';
export { httpTransport } from './transport/http.js';
export type { AddressPolicy, AddressPolicyOptions, GuardedLookupOptions } from './transport/ssrf.js';
export { classifyAddress, createAddressPolicy, guardedLookup } from './transport/ssrf.js';
export { memoryStore } from './webhooks/memory-store.js';
export type { IndexStats, ListOptions, WebhookPage } from './webhooks/webhook-registry.js';
