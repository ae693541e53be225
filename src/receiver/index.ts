// `webhook-dispatcher/receiver`: verifying webhooks on the receiving side, for Node http, Express, Fastify and
// fetch-style handlers (Hono, Next.js, Workers). No framework is a dependency: each adapter is written against
// the few members it uses. The plain helpers (`verifySignature`, `assertSignature`, `verifyStandardWebhook`)
// live in the core and are re-exported here for one import.

export { assertSignature } from '../extend.js';
export {
  SignatureVerificationError,
  verifySignature,
  verifyStandardWebhook,
  WebhookError,
} from '../index.js';
export type { MemoryDedupeStoreOptions, TtlStore } from './dedupe-store.js';
export { memoryDedupeStore } from './dedupe-store.js';
export type { WebhookRequestErrorCode } from './errors.js';
export { WebhookRequestError, webhookErrorStatus } from './errors.js';
export type {
  FastifyInstanceLike,
  FastifyReplyLike,
  FastifyRequestLike,
  FastifyWebhookOptions,
} from './fastify.js';
export { fastifyWebhook } from './fastify.js';
export type { FetchRequestLike, FetchResponse } from './fetch.js';
export { fetchWebhookHandler, verifyWebhookRequest } from './fetch.js';
export type { NodeRequestLike, NodeResponseLike } from './node.js';
export { expressWebhook, nodeWebhookHandler } from './node.js';
export type { NodeBodyLike, WebBodyLike } from './read-body.js';
export type { ReceiverScheme, VerifiedWebhook, VerifyWebhookOptions } from './verify.js';
export { verifyWebhook } from './verify.js';
