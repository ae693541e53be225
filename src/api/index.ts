// `webhook-dispatcher/api`: the admin HTTP API, its OpenAPI document and server adapters. Its own entry, so the
// core stays free of fast-json-patch and the portal's assets.

export type { AdminDeliveryRecord, AdminDispatcher } from './admin-dispatcher.js';
export type { TenantResolver, WebhookApiHandler, WebhookApiOptions } from './create-webhook-api.js';
export { createWebhookApi, NO_TENANT } from './create-webhook-api.js';
export type { ApiErrorCode } from './errors.js';
export { fastifyPlugin } from './fastify.js';
export type { NodeHandler } from './node.js';
export { toNodeHandler } from './node.js';
export type { OpenApiDocumentOptions } from './openapi.js';
export { createOpenApiDocument, openApiDocument } from './openapi.js';
export type { PortalContext, PortalOptions, PortalRoute } from './portal/index.js';
export type { ApiErrorBody, JsonPatchBody, WebhookCreateBody, WebhookView } from './schemas.js';
export {
  ErrorBody as ErrorSchema,
  JsonPatch as JsonPatchSchema,
  Webhook as WebhookSchema,
  WebhookCreate as WebhookCreateSchema,
  WebhookMergePatch as WebhookMergePatchSchema,
} from './schemas.js';
export type { StoredWebhook } from './view.js';
