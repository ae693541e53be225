import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { WebhookApiHandler } from './create-webhook-api.js';

// Structural types of the few Fastify members used, so the package does not depend on Fastify's types.
interface FastifyRequestLike {
  raw: IncomingMessage;
  body?: unknown;
  url: string;
}
interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  header(name: string, value: string): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}
interface FastifyInstanceLike {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    type: string,
    parser: (
      request: unknown,
      payload: IncomingMessage,
      done: (error: Error | null, body?: unknown) => void,
    ) => void,
  ): void;
  route(options: {
    method: string[];
    url: string;
    handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>;
  }): unknown;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

function headersOf(raw: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw.headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  return headers;
}

/**
 * A Fastify plugin serving the admin API at its `basePath` (register it without a `prefix`). The request body
 * reaches the API as the raw stream, so the API's own size limit and errors apply, not Fastify's JSON parser.
 *
 * @example app.register(fastifyPlugin(createWebhookApi({ dispatcher, tenant, basePath: '/webhooks-api' })))
 */
export function fastifyPlugin(handler: WebhookApiHandler): (instance: FastifyInstanceLike) => Promise<void> {
  const base = handler.basePath ?? '';
  return async (instance) => {
    // Encapsulated: these parsers apply to the API's routes only, not to the host's.
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    const serve = async (request: FastifyRequestLike, reply: FastifyReplyLike) => {
      const raw = request.raw;
      const method = raw.method ?? 'GET';
      const stream = request.body instanceof Readable ? request.body : undefined;
      const fetchRequest = new Request(new URL(raw.url ?? request.url, 'http://localhost'), {
        method,
        headers: headersOf(raw),
        ...(stream && method !== 'GET' && method !== 'HEAD'
          ? { body: Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>, duplex: 'half' }
          : {}),
      } as RequestInit);
      const response = await handler(fetchRequest, { raw: request });
      reply.code(response.status);
      response.headers.forEach((value, name) => {
        reply.header(name, value);
      });
      return reply.send(response.body === null ? undefined : Buffer.from(await response.arrayBuffer()));
    };
    instance.route({ method: METHODS, url: base === '' ? '/' : base, handler: serve });
    instance.route({ method: METHODS, url: `${base}/*`, handler: serve });
  };
}
