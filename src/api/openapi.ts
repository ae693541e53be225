import type { TSchema } from '@sinclair/typebox';
import { VERSION } from '../core/version.js';
import {
  DeliveryPage,
  DeliveryRecord,
  DeliveryResult,
  ErrorBody,
  EventTypeList,
  JsonPatch,
  JsonPatchOperation,
  PreviewedRequest,
  RecoverAccepted,
  RecoverBody,
  RedeliverBody,
  Statement,
  Webhook,
  WebhookCreate,
  WebhookMergePatch,
  WebhookPage,
  WebhookWithSecret,
} from './schemas.js';

/** Options of `createOpenApiDocument()`. */
export interface OpenApiDocumentOptions {
  /** Where the API is mounted; becomes the document's server URL. @default '' */
  basePath?: string;
  /** @default 'Webhooks admin API' */
  title?: string;
  /** The API's version. @default the package version */
  version?: string;
}

/** A TypeBox schema as plain JSON Schema (TypeBox's symbol keys dropped), with component references in place. */
function plain(schema: TSchema, components: Map<TSchema, string>, root = true): unknown {
  const name = components.get(schema);
  if (name !== undefined && !root) return { $ref: `#/components/schemas/${name}` };
  if (Array.isArray(schema)) return schema.map((item) => plain(item, components, false));
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    out[key] =
      typeof value === 'object' && value !== null ? plain(value as TSchema, components, false) : value;
  }
  return out;
}

const COMPONENTS: Record<string, TSchema> = {
  Webhook,
  WebhookWithSecret,
  WebhookCreate,
  WebhookMergePatch,
  WebhookPage,
  Statement,
  JsonPatch,
  JsonPatchOperation,
  DeliveryResult,
  RecoverAccepted,
  DeliveryRecord,
  DeliveryPage,
  RecoverRequest: RecoverBody,
  RedeliverRequest: RedeliverBody,
  EventTypeList,
  PreviewedRequest,
  Error: ErrorBody,
};

const ref = (name: keyof typeof COMPONENTS) => ({ $ref: `#/components/schemas/${name}` });
const content = (name: keyof typeof COMPONENTS) => ({ 'application/json': { schema: ref(name) } });
const ok = (description: string, name: keyof typeof COMPONENTS) => ({ description, content: content(name) });
const error = (description: string) => ({ description, content: content('Error') });

const ERRORS = {
  '401': error('The tenant resolver refused the request.'),
  '404': error("No such webhook or delivery for this tenant (another tenant's is a 404 too)."),
};
const BODY_ERRORS = {
  '400': error('Malformed JSON or patch.'),
  '413': error('Body larger than maxBodyBytes.'),
  '415': error('Unsupported Content-Type.'),
  '422': error('Validation failed; `error.field` names the field.'),
};
const idParameter = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description,
});
const queryParameter = (name: string, schema: object, description: string) => ({
  name,
  in: 'query',
  required: false,
  schema,
  description,
});
const page = [
  queryParameter('limit', { type: 'integer', minimum: 1, maximum: 100, default: 50 }, 'Page size.'),
  queryParameter('cursor', { type: 'string' }, '`nextCursor` of the previous page.'),
];

function paths() {
  const webhookId = idParameter('id', 'Webhook id.');
  const deliveryId = idParameter('id', 'Delivery id (the `webhook-id` header of its requests).');
  return {
    '/webhooks': {
      get: {
        operationId: 'listWebhooks',
        summary: "List the tenant's webhooks",
        parameters: page,
        responses: {
          '200': ok('A page of webhooks.', 'WebhookPage'),
          '400': error('Bad query.'),
          '401': ERRORS['401'],
        },
      },
      post: {
        operationId: 'createWebhook',
        summary: 'Create a webhook',
        requestBody: { required: true, content: content('WebhookCreate') },
        responses: {
          '201': {
            description: 'Created; `secret` is shown in this response only.',
            headers: { Location: { schema: { type: 'string' } } },
            content: content('WebhookWithSecret'),
          },
          ...BODY_ERRORS,
          '401': ERRORS['401'],
          '409': error('Tenant limit reached.'),
        },
      },
    },
    '/webhooks/{id}': {
      parameters: [webhookId],
      get: {
        operationId: 'getWebhook',
        summary: 'Get a webhook',
        responses: { '200': ok('The webhook (never its secret).', 'Webhook'), ...ERRORS },
      },
      patch: {
        operationId: 'updateWebhook',
        summary: 'Update a webhook with a JSON Patch (RFC 6902) or a merge patch (RFC 7386)',
        requestBody: {
          required: true,
          content: {
            'application/json-patch+json': { schema: ref('JsonPatch') },
            'application/merge-patch+json': { schema: ref('WebhookMergePatch') },
            'application/json': { schema: ref('WebhookMergePatch') },
          },
        },
        responses: {
          '200': ok(
            'The updated webhook; `secret` only when this patch set or generated one.',
            'WebhookWithSecret',
          ),
          ...BODY_ERRORS,
          ...ERRORS,
          '409': error('A JSON Patch `test` operation failed.'),
        },
      },
      delete: {
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook',
        responses: { '204': { description: 'Deleted.' }, ...ERRORS },
      },
    },
    '/webhooks/preview': {
      post: {
        operationId: 'previewWebhook',
        summary:
          'The exact request an unsaved webhook would get (a form\u2019s live preview); nothing is saved',
        description:
          'The body is a WebhookCreate, plus optional `id` (preview an edit of a saved webhook: the body\u2019s fields ' +
          'over its own) and `event` (default: the sample `test` would send). Validated like a save.',
        requestBody: { required: true, content: content('WebhookCreate') },
        responses: {
          '200': ok('The request, as it would be sent.', 'PreviewedRequest'),
          ...BODY_ERRORS,
          ...ERRORS,
        },
      },
    },
    '/webhooks/{id}/test': {
      parameters: [webhookId],
      post: {
        operationId: 'testWebhook',
        summary: 'Send a sample event',
        responses: { '200': ok('The delivery result.', 'DeliveryResult'), ...ERRORS },
      },
    },
    '/webhooks/{id}/rotate-secret': {
      parameters: [webhookId],
      post: {
        operationId: 'rotateWebhookSecret',
        summary: 'Replace the signing secret',
        responses: {
          '200': ok('The webhook with its new `secret`, shown in this response only.', 'WebhookWithSecret'),
          ...ERRORS,
        },
      },
    },
    '/webhooks/{id}/deliveries': {
      parameters: [webhookId],
      get: {
        operationId: 'listDeliveries',
        summary: "List a webhook's deliveries, newest first",
        parameters: [
          queryParameter(
            'status',
            { type: 'string', enum: ['delivered', 'failed'] },
            'Of the latest attempt.',
          ),
          queryParameter('since', { type: 'string' }, 'ISO-8601 or epoch ms (by creation).'),
          queryParameter('until', { type: 'string' }, 'ISO-8601 or epoch ms, exclusive.'),
          ...page,
        ],
        responses: {
          '200': ok('A page of deliveries.', 'DeliveryPage'),
          '400': error('Bad query.'),
          ...ERRORS,
        },
      },
    },
    '/webhooks/{id}/recover': {
      parameters: [webhookId],
      post: {
        operationId: 'recoverWebhook',
        summary: 'Resend the deliveries still failed in a time window',
        requestBody: { required: true, content: content('RecoverRequest') },
        responses: {
          '202': ok(
            'How many deliveries were queued; the re-sends go on through the lanes.',
            'RecoverAccepted',
          ),
          ...BODY_ERRORS,
          ...ERRORS,
        },
      },
    },
    '/deliveries/{id}': {
      parameters: [deliveryId],
      get: {
        operationId: 'getDelivery',
        summary: 'Get a delivery with its attempts',
        responses: { '200': ok('The delivery.', 'DeliveryRecord'), ...ERRORS },
      },
    },
    '/deliveries/{id}/redeliver': {
      parameters: [deliveryId],
      post: {
        operationId: 'redeliver',
        summary: 'Send a delivery again',
        requestBody: { required: false, content: content('RedeliverRequest') },
        responses: { '200': ok('The delivery result.', 'DeliveryResult'), ...BODY_ERRORS, ...ERRORS },
      },
    },
    '/event-types': {
      get: {
        operationId: 'listEventTypes',
        summary: "The dispatcher's event catalog",
        responses: { '200': ok('The event types.', 'EventTypeList'), '401': ERRORS['401'] },
      },
    },
  };
}

/**
 * The OpenAPI 3.1 document of the admin API. Its schemas are the TypeBox definitions that validate the requests,
 * so the document cannot drift from what the handler accepts.
 */
export function createOpenApiDocument(options: OpenApiDocumentOptions = {}): Record<string, unknown> {
  const components = new Map<TSchema, string>(
    Object.entries(COMPONENTS).map(([name, schema]) => [schema, name]),
  );
  const schemas = Object.fromEntries(
    Object.entries(COMPONENTS).map(([name, schema]) => [name, plain(schema, components)]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'Webhooks admin API',
      version: options.version ?? VERSION,
      description:
        "Manage the webhooks of the request's tenant. Another tenant's webhooks and deliveries answer 404. Errors are `{ error: { code, message, field? } }`.",
    },
    servers: [{ url: options.basePath || '/' }],
    paths: paths(),
    components: { schemas },
  };
}

/** The document for an API mounted at the root (`createOpenApiDocument()`). */
export const openApiDocument: Record<string, unknown> = createOpenApiDocument();
