import type { AdminDispatcher } from './admin-dispatcher.js';
import type { Tenant, TenantGuard } from './tenant-guard.js';

/** What every handler is given: the request, its path parameters and tenant, and the API's services. */
export interface RouteContext {
  request: Request;
  url: URL;
  /** The `:name` segments of the route's path, decoded, in order. */
  params: string[];
  tenant: Tenant;
  api: ApiServices;
}

/** What the handlers share, built once by `createWebhookApi()`. */
export interface ApiServices {
  dispatcher: AdminDispatcher;
  guard: TenantGuard;
  basePath: string;
  maxBodyBytes: number;
  /** The OpenAPI document as JSON text, built on first use. */
  openApi(): string;
}

/** An OpenAPI operation object (summary, parameters, requestBody, responses, ...). */
export type Operation = Record<string, unknown> & { operationId: string; summary: string };

/** One row of the route table: the route, its handler, and its OpenAPI operation. */
export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** `/webhooks/:id/test`; a `:name` segment is a parameter (at most 256 characters). */
  path: string;
  /** Descriptions of the path parameters, for the document. */
  params?: Record<string, string>;
  /** The OpenAPI operation; absent for a route the document does not list (the document itself). */
  openapi?: Operation;
  handle(context: RouteContext): Promise<Response>;
}
