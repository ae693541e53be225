import { OptionsError } from '../extend.js';
import { errorBody, forget } from './fetch.js';
import { checkContentLength, type NodeBodyLike, readNodeBody } from './read-body.js';
import {
  markResolved,
  type ResolvedReceiverOptions,
  resolveReceiverOptions,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  verifyResolved,
} from './verify.js';

/**
 * The part of a Node `IncomingMessage` the middleware reads; Express requests are ones. `body` is read when an
 * earlier middleware left the raw body there (`express.raw()`, a Buffer; `express.text()`, a string).
 */
export interface NodeRequestLike extends NodeBodyLike {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  body?: unknown;
}

/** The part of a Node `ServerResponse` the middleware writes; Express responses are ones. */
export interface NodeResponseLike {
  statusCode: number;
  readonly headersSent: boolean;
  readonly writableFinished?: boolean;
  setHeader(name: string, value: string): unknown;
  end(chunk?: string): unknown;
  once(event: 'close', listener: () => void): unknown;
}

async function verifyNode<T>(request: NodeRequestLike, options: ResolvedReceiverOptions) {
  const given = request.body;
  let body: Uint8Array | string;
  if (given instanceof Uint8Array || typeof given === 'string') body = given;
  else if (given !== undefined && given !== null && request.readableEnded === true) {
    throw new OptionsError(
      'request',
      'verifyWebhookRequest: the body was already parsed (express.json() or similar ran first), so the raw ' +
        'bytes that were signed are gone. Mount the webhook route before the JSON parser, or use express.raw().',
    );
  } else {
    const length = request.headers['content-length'];
    checkContentLength(typeof length === 'string' ? length : undefined, options.maxBodyBytes);
    body = await readNodeBody(request, options.maxBodyBytes);
  }
  return verifyResolved<T>(request.headers, body, options);
}

function send(response: NodeResponseLike, status: number, body: unknown): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.statusCode = status;
  response.setHeader('content-type', 'application/json');
  if (status === 413) response.setHeader('connection', 'close');
  response.end(JSON.stringify(body));
}

/** Forgets the id unless the response ends with a 2xx status. */
function forgetUnlessAnswered2xx(
  response: NodeResponseLike,
  options: ResolvedReceiverOptions,
  id: string | undefined,
): void {
  if (id === undefined || options.dedupe?.delete === undefined) return;
  response.once('close', () => {
    const ok = response.writableFinished !== false && response.statusCode >= 200 && response.statusCode < 300;
    if (!ok) void forget(options, id);
  });
}

/**
 * A `node:http` request handler `(req, res) => Promise<void>` that reads the raw body (bounded), verifies it and
 * calls `handler` with the verified webhook; it is also an Express route handler. Refused requests are answered
 * without calling `handler`: 400, 401 or 413 with `{ "code", "message" }`, a duplicate with 200
 * (`{ "duplicate": true }`). A `handler` that throws gets a 500. With a `dedupe` store, the id is forgotten again
 * unless the response ends with a 2xx status, so the sender's retry is handled.
 *
 * @example
 * createServer(nodeWebhookHandler({ secret, scheme: 'standard' }, async (webhook, req, res) => {
 *   await handle(webhook.payload);
 *   res.writeHead(204).end();
 * })).listen(0);
 */
export function nodeWebhookHandler<
  T = unknown,
  Request extends NodeRequestLike = NodeRequestLike,
  Response extends NodeResponseLike = NodeResponseLike,
>(
  options: VerifyWebhookOptions,
  handler: (webhook: VerifiedWebhook<T>, request: Request, response: Response) => unknown,
): (request: Request, response: Response) => Promise<void> {
  const resolved = markResolved(resolveReceiverOptions(options));
  if (typeof handler !== 'function')
    throw new OptionsError('handler', 'Expected `handler` to be a function.');
  return async (request, response) => {
    let webhook: VerifiedWebhook<T>;
    try {
      webhook = await verifyNode<T>(request, resolved);
    } catch (error) {
      const { status, body } = errorBody(error);
      send(response, status, body);
      return;
    }
    forgetUnlessAnswered2xx(response, resolved, webhook.id);
    try {
      await handler(webhook, request, response);
    } catch {
      send(response, 500, { code: 'ERR_HANDLER_FAILED', message: 'The webhook handler failed.' });
    }
  };
}

/**
 * Express middleware: verifies the request (reading the raw body itself, or the Buffer `express.raw()` left),
 * then puts the verified webhook on `res.locals.webhook` (and `req.webhook`) and calls `next()`. Refused requests
 * are answered as {@link nodeWebhookHandler} does, without calling `next`. Mount it before `express.json()`, or
 * on a route the JSON parser does not see.
 *
 * @example
 * app.post('/hooks', expressWebhook({ secret, scheme: 'standard' }), (req, res) => {
 *   console.log(res.locals.webhook.payload);
 *   res.sendStatus(204);
 * });
 */
export function expressWebhook(
  options: VerifyWebhookOptions,
): (
  request: NodeRequestLike,
  response: NodeResponseLike & { locals?: Record<string, unknown> },
  next: (error?: unknown) => void,
) => Promise<void> {
  const resolved = markResolved(resolveReceiverOptions(options));
  return async (request, response, next) => {
    let webhook: VerifiedWebhook;
    try {
      webhook = await verifyNode(request, resolved);
    } catch (error) {
      const { status, body } = errorBody(error);
      send(response, status, body);
      return;
    }
    forgetUnlessAnswered2xx(response, resolved, webhook.id);
    (request as { webhook?: VerifiedWebhook }).webhook = webhook;
    if (response.locals !== undefined) response.locals.webhook = webhook;
    next();
  };
}
