import type { TSchema } from '@sinclair/typebox';
import { VERSION } from '../core/version.js';
import { COMPONENTS } from './openapi-parts.js';
import type { Route } from './route.js';
import { ROUTES } from './route-table.js';

/** Options of `createOpenApiDocument()`. */
export interface OpenApiDocumentOptions {
  /** Where the API is mounted; becomes the document's server URL. @default '' */
  basePath?: string;
  /** @default 'Webhooks admin API' */
  title?: string;
  /** The API's version. @default the package version */
  version?: string;
  /** POST operations take an `Idempotency-Key` header (`createWebhookApi({ idempotency })`). @default true */
  idempotency?: boolean;
}

const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  schema: { type: 'string', minLength: 1, maxLength: 255 },
  description:
    'Per tenant: a repeat with the same request within 24 h answers the first response again (`Idempotent-Replayed: true`); another request with the key answers 422 `ERR_IDEMPOTENCY_KEY_REUSED`.',
};

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

/** The document's `paths`, derived from the route table: one operation per documented route. */
function paths(routes: readonly Route[], idempotency: boolean): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const { openapi } = route;
    if (openapi === undefined) continue;
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    out[path] ??= {};
    const item = out[path];
    const params = Object.entries(route.params ?? {});
    if (params.length > 0) {
      item.parameters = params.map(([name, description]) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
        description,
      }));
    }
    item[route.method.toLowerCase()] =
      idempotency && route.method === 'POST'
        ? { ...openapi, parameters: [...((openapi.parameters as unknown[]) ?? []), IDEMPOTENCY_KEY] }
        : openapi;
  }
  return out;
}

/**
 * The OpenAPI 3.1 document of the admin API. Its schemas are the TypeBox definitions that validate the requests,
 * so the document cannot drift from what the handler accepts.
 */
export function createOpenApiDocument(options: OpenApiDocumentOptions = {}): Record<string, unknown> {
  const components = new Map<TSchema, string>(
    Object.entries(COMPONENTS).map(([name, schema]) => [schema as TSchema, name]),
  );
  const schemas = Object.fromEntries(
    Object.entries(COMPONENTS).map(([name, schema]) => [name, plain(schema as TSchema, components)]),
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
    paths: paths(ROUTES, options.idempotency ?? true),
    components: { schemas },
  };
}

/** The document for an API mounted at the root (`createOpenApiDocument()`). */
export const openApiDocument: Record<string, unknown> = createOpenApiDocument();
