// The pieces each route's OpenAPI operation is written with (route-table.ts), and the named component schemas.
import type { TSchema } from '@sinclair/typebox';
import { RecoverAllBody, WebhookStats } from './ops-schemas.js';
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

/** The document's `components.schemas`: routes refer to them by name. */
export const COMPONENTS = {
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
  RecoverAllRequest: RecoverAllBody,
  WebhookStats,
  RedeliverRequest: RedeliverBody,
  EventTypeList,
  PreviewedRequest,
  Error: ErrorBody,
} satisfies Record<string, TSchema>;

export type ComponentName = keyof typeof COMPONENTS;

export const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
export const content = (name: ComponentName) => ({ 'application/json': { schema: ref(name) } });
export const ok = (description: string, name: ComponentName) => ({ description, content: content(name) });
export const error = (description: string) => ({ description, content: content('Error') });
export const body = (name: ComponentName, required = true) => ({ required, content: content(name) });

export const ERRORS = {
  '401': error('The tenant resolver refused the request.'),
  '404': error("No such webhook or delivery for this tenant (another tenant's is a 404 too)."),
};
export const BODY_ERRORS = {
  '400': error('Malformed JSON or patch.'),
  '413': error('Body larger than maxBodyBytes.'),
  '415': error('Unsupported Content-Type.'),
  '422': error('Validation failed; `error.field` names the field.'),
};
export const queryParameter = (name: string, schema: object, description: string) => ({
  name,
  in: 'query',
  required: false,
  schema,
  description,
});
export const PAGE = [
  queryParameter('limit', { type: 'integer', minimum: 1, maximum: 100, default: 50 }, 'Page size.'),
  queryParameter('cursor', { type: 'string' }, '`nextCursor` of the previous page.'),
];
