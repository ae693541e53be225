/**
 * `webhook-dispatcher/extend`: the building blocks for writing your own store, queue, delivery log, transport or
 * instrumentation.
 *
 * @module webhook-dispatcher/extend
 */

// `webhook-dispatcher/extend`: the pieces for people who write their own stores, queues, delivery logs, transports
// and instrumentation, and the building blocks the package's own integrations (`/postgres`, `/bullmq`, `/api`,
// `/receiver`, `/otel`) use. A sender of webhooks needs none of it: the root entry (src/index.ts) is for them.
// Names are listed explicitly, grouped by what they serve; each lives in exactly one entry.

// Deadlines and option checks: one helper for every call to a store, a broker or a database, and one validator and
// message pattern for numeric options (``Expected `x` to be a positive integer of at most N, got -1``).
export { within } from './core/deadline.js';
// Error classes a sender meets only by `code` (`isWebhookError(error) && error.code === 'ERR_OPTIONS'`), and the
// ones an integration throws. The base class and the everyday ones are in the root entry.
export type { AnyWebhookErrorCode } from './core/errors.js';
export {
  BlockedAddressError,
  InvalidEventError,
  OptionsError,
  PolicyError,
  TemplateError,
} from './core/errors.js';
export type { LoggerStyle, ToLoggerOptions } from './core/logger.js';
export { numberOption } from './core/option-checks.js';
// The seams' plain data: what a transport receives and answers, what a store keeps, the result variants.
export type {
  CircuitStore,
  DeliveredResult,
  DeliveryErrorCode,
  DeliveryRequest,
  FailedResult,
  PolicyAccess,
  QueuedResult,
  RateLimitStore,
  SharedCircuit,
  SignatureScheme,
  SkippedResult,
  TemplateEscape,
  TransportResponse,
  TransportSendOptions,
  WebhookDisabled,
} from './core/types.js';
// Instrumentation (what `/otel` implements).
export type {
  AttemptEnd,
  AttemptInfo,
  AttemptSpan,
  EmitInfo,
  EngineGauges,
  Instrumentation,
} from './delivery/instrumentation.js';
// Delivery queues (what `/postgres` and `/bullmq` implement).
export type {
  AttemptStep,
  DeliveryEngine,
  DeliveryJob,
  DeliveryQueue,
  DeliveryReporter,
  DeliveryWorker,
  EnqueueOptions,
} from './delivery/queue.js';
// `unsentResult`: the outcome of a job that was queued or refused.
export { memoryQueue, unsentResult } from './delivery/queue.js';
// For stores whose `rateLimits` are shared between processes.
export { rateSpacingMicros } from './delivery/rate-spacing.js';
export type { AttemptOutcome, RetryOn, RetryPolicy, RetryPolicyContext } from './delivery/retry.js';
export type {
  DeliveryListQuery,
  RecoverOptions,
  RecoverQuery,
  RedeliverOptions,
} from './dispatcher/dispatcher.js';
export { deliveryIdFor } from './dispatcher/dispatcher.js';
export type {
  DispatcherEventName,
  DispatcherEvents,
  DispatcherListener,
} from './dispatcher/dispatcher-events.js';
export { suggest, validateEventTypes, validateTemplateFields } from './events/catalog-checks.js';
export { sampleEventFrom } from './events/catalog-samples.js';
// Event catalogs: the schemas behind the built-in ones, and the checks the admin API runs.
export { LAUNCHDARKLY_ACTIONS, LAUNCHDARKLY_ENTRY_SCHEMA } from './events/catalogs/launchdarkly.js';
export { UNLEASH_EVENT_SCHEMA } from './events/catalogs/unleash.js';
export type {
  EventCatalogDefinition,
  EventFormat,
  EventTypeDefinition,
} from './events/event-catalog.js';
export { isEventCatalog } from './events/event-catalog.js';
// Delivery logs (Redis, Postgres, your own): one query validation and one cursor format.
export type {
  DeliveryAttempt,
  DeliveryRef,
  DeliveryRefPage,
  DeliverySearch,
  DeliveryStatsQuery,
  DeliveryStatus,
  FailedDeliveryQuery,
  MemoryDeliveryLog,
  MemoryDeliveryLogOptions,
  NormalizedDeliveryQuery,
} from './log/delivery-log.js';
export {
  decodeDeliveryCursor,
  encodeDeliveryCursor,
  normalizeDeliveryAttempt,
  normalizeDeliveryQuery,
  requestForLog,
} from './log/delivery-log.js';
// Signing pieces for receivers and custom senders.
export { assertSignature } from './rendering/sign.js';
export { publicKeyOf } from './rendering/signing-keys.js';
export type {
  SignStandardWebhookOptions,
  StandardWebhookHeaders,
  StandardWebhookSecret,
  VerifyStandardWebhookOptions,
} from './rendering/standard-webhooks.js';
export { standardSignatureHeader } from './rendering/standard-webhooks.js';
export type { RenderOptions, TemplateContext, TemplateWebhook } from './rendering/template.js';
export { TemplateBudgetError } from './rendering/template.js';
export { MAX_ACCESSES } from './routing/event.js';
export type { ExplainReason } from './routing/matching.js';
export type { PolicyMatcher, PolicyMatcherOptions } from './routing/policy/matcher.js';
export type { FetchTransportOptions } from './transport/fetch.js';
export type { CertifiedDeliveryRequest, HttpTransportOptions } from './transport/http.js';
export type { AddressPolicy, AddressPolicyOptions, GuardedLookupOptions } from './transport/ssrf.js';
// The tenant rule webhooks are saved with, for stores and APIs that take a tenant from outside.
export { validateTenant } from './webhooks/webhook.js';
// What a dispatcher holds in memory (`webhooks.indexStats()`), for metrics.
export type { IndexStats } from './webhooks/webhook-registry.js';
