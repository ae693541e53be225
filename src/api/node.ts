import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { WebhookApiHandler } from './create-webhook-api.js';

/** A node:http request, or an Express one (which may carry `originalUrl` and an already parsed `body`). */
type NodeRequest = IncomingMessage & { originalUrl?: string; body?: unknown };

function headersOf(request: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  return headers;
}

/**
 * The body as the Fetch handler reads it: the stream itself (the handler bounds it), or what a body parser that ran
 * before left behind (Express with `express.json()`: re-serialized; mount the API before body parsers to keep
 * the exact bytes and the size limit).
 */
function bodyOf(request: NodeRequest): string | Uint8Array | ReadableStream<Uint8Array> | undefined {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  if (request.readableEnded || request.complete) {
    const parsed = request.body;
    if (parsed === undefined) return undefined;
    if (typeof parsed === 'string' || parsed instanceof Uint8Array) return parsed;
    return JSON.stringify(parsed);
  }
  return Readable.toWeb(request) as unknown as ReadableStream<Uint8Array>;
}

/** Builds the Fetch Request of a node:http request; aborted when the client goes away. */
export function toFetchRequest(request: NodeRequest, signal?: AbortSignal): Request {
  let url: URL;
  try {
    url = new URL(request.originalUrl ?? request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
  } catch {
    // A hostile Host header must not break routing: only the path and query matter.
    url = new URL(request.originalUrl ?? request.url ?? '/', 'http://localhost');
  }
  const body = bodyOf(request);
  return new Request(url, {
    method: request.method ?? 'GET',
    headers: headersOf(request),
    ...(body === undefined ? {} : { body, duplex: 'half' }),
    ...(signal ? { signal } : {}),
  } as RequestInit);
}

/** Writes a Fetch Response to a node:http response. */
export async function sendFetchResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const body = response.body === null ? undefined : Buffer.from(await response.arrayBuffer());
  if (body !== undefined) headers['content-length'] = String(body.byteLength);
  res.writeHead(response.status, headers);
  res.end(body);
}

/** Methods a Fetch `Request` cannot carry (`new Request()` throws): no route serves them. */
const UNFETCHABLE_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

function writeError(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ error: { code, message } }));
}

/** A node:http listener (or Express middleware: it calls `next()` for paths outside the API's basePath). */
export type NodeHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => Promise<void>;

/**
 * Serves the admin API on node:http, and in Express as middleware. Mount it before body parsers
 * (`express.json()`), or at least not after one that consumed the API's requests.
 *
 * @example createServer(toNodeHandler(api)).listen(3000)
 * @example app.use(toNodeHandler(createWebhookApi({ dispatcher, tenant, basePath: '/webhooks-api' })))
 */
export function toNodeHandler(handler: WebhookApiHandler): NodeHandler {
  const base = handler.basePath ?? '';
  return async (req, res, next) => {
    const path = ((req as NodeRequest).originalUrl ?? req.url ?? '/').split('?')[0]!;
    if (next && base !== '' && path !== base && !path.startsWith(`${base}/`)) {
      next();
      return;
    }
    const controller = new AbortController();
    const abort = () => {
      if (!res.writableFinished) controller.abort();
    };
    res.once('close', abort);
    try {
      if (UNFETCHABLE_METHODS.has(req.method?.toUpperCase() ?? '')) {
        writeError(res, 405, 'ERR_METHOD_NOT_ALLOWED', `The API does not serve ${req.method} requests`);
        return;
      }
      const response = await handler(toFetchRequest(req as NodeRequest, controller.signal), { raw: req });
      await sendFetchResponse(response, res);
    } catch (error) {
      if (!res.headersSent) {
        writeError(res, 500, 'ERR_INTERNAL', 'Internal error');
      } else {
        res.destroy(error as Error);
      }
    } finally {
      res.off('close', abort);
    }
  };
}
