import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import {
  type AdminDispatcher,
  createWebhookApi,
  fastifyPlugin,
  NO_TENANT,
  toNodeHandler,
  type WebhookApiOptions,
} from '../../src/api/index.js';
import { OptionsError } from '../../src/extend.js';
import {
  createWebhookDispatcher,
  type EventCatalog,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../../src/index.js';
import { adminDispatcher } from './admin-dispatcher.js';
import { open } from './setup.js';

/** Bearer tokens of the test tenants: look-alike ids on purpose. */
export const TOKENS: Record<string, string | typeof NO_TENANT> = {
  'token-acme': 'acme',
  'token-globex': 'globex',
  'token-acme-space': 'acme ',
  'token-acme-upper': 'ACME',
  'token-acme-zwsp': 'acme\u200b',
  'token-none': NO_TENANT,
};

/** The tenant of a request: from its bearer token only (an `x-tenant` header or a body field is never read). */
export function tenantFromToken(request: Request): string | typeof NO_TENANT | undefined {
  const match = /^Bearer (.+)$/.exec(request.headers.get('authorization') ?? '');
  return match ? TOKENS[match[1]!] : undefined;
}

/** A response as the tests read it: the body is loose JSON, asserted field by field. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are untyped JSON, checked by the assertions
  body: any;
  text: string;
}

export type ServerKind = 'node' | 'express' | 'fastify';

export interface ApiServer {
  base: string;
  /** fetch() against the API with a tenant's token (`as: 'token-acme'`); JSON bodies serialized. */
  call(
    method: string,
    path: string,
    options?: {
      as?: string;
      body?: unknown;
      raw?: string | Uint8Array;
      type?: string;
      headers?: Record<string, string>;
    },
  ): Promise<ApiResponse>;
  dispatcher: AdminDispatcher;
  real: WebhookDispatcher;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A real dispatcher behind the admin API, served by a real node:http, Express or Fastify server on port 0. */
export async function startApi(
  kind: ServerKind = 'node',
  apiOptions: Partial<WebhookApiOptions> = {},
  dispatcherOptions: WebhookDispatcherOptions & { eventTypes?: EventCatalog } = {},
): Promise<ApiServer> {
  const { eventTypes, ...options } = dispatcherOptions;
  let real: WebhookDispatcher;
  try {
    real = createWebhookDispatcher({
      allowPrivateNetworks: true,
      retry: 0,
      ...options,
      ...(eventTypes ? { eventTypes } : {}),
    });
  } catch (error) {
    // A dispatcher without catalog support yet refuses the option: the bridge supplies `eventTypes` to the API.
    if (!(error instanceof OptionsError) || eventTypes === undefined) throw error;
    real = createWebhookDispatcher({ allowPrivateNetworks: true, retry: 0, ...options });
  }
  open.push(real);
  const dispatcher = adminDispatcher(real, eventTypes);
  const api = createWebhookApi({ dispatcher, tenant: tenantFromToken, ...apiOptions });
  let base: string;
  if (kind === 'fastify') {
    const app = Fastify();
    app.get('/host-route', async () => ({ host: true }));
    await app.register(fastifyPlugin(api));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    open.push({ close: () => app.close() });
  } else {
    let server: Server;
    if (kind === 'express') {
      const app = express();
      app.use(toNodeHandler(api));
      app.get('/host-route', (_req, res) => {
        res.json({ host: true });
      });
      server = createServer(app);
    } else {
      server = createServer(toNodeHandler(api));
    }
    base = await listen(server);
    open.push({
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    });
  }
  const call: ApiServer['call'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.as) headers.authorization = `Bearer ${options.as}`;
    let body: string | Uint8Array | undefined = options.raw;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = options.type ?? 'application/json';
    // A JSON client: an empty POST says so too (the API refuses one without, as a cross-site form would send it).
    else if (method === 'POST') headers['content-type'] ??= options.type ?? 'application/json';
    const response = await fetch(`${base}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  };
  return { base, call, dispatcher, real };
}
