import { OptionsError } from '../extend.js';
import { errorBody, forget } from './fetch.js';
import {
  markResolved,
  type ResolvedReceiverOptions,
  resolveReceiverOptions,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  verifyResolved,
} from './verify.js';

/** The part of a Fastify request the plugin reads. */
export interface FastifyRequestLike {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body: unknown;
}

/** The part of a Fastify reply the plugin writes. */
export interface FastifyReplyLike {
  readonly sent: boolean;
  readonly statusCode: number;
  code(status: number): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

/**
 * The part of a Fastify instance the plugin uses; spelled out so the package's types do not need Fastify's.
 * A `FastifyInstance` is one.
 */
export interface FastifyInstanceLike {
  removeAllContentTypeParsers(): void;
  addContentTypeParser(
    type: string,
    options: { parseAs: 'buffer'; bodyLimit: number },
    parser: (request: never, body: Uint8Array, done: (error: Error | null, body?: unknown) => void) => void,
  ): unknown;
  addHook(
    name: 'onResponse',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<void>,
  ): unknown;
  post(
    path: string,
    handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>,
  ): unknown;
}

/** Options of {@link fastifyWebhook}: the receiver's options, the route and its handler. */
export interface FastifyWebhookOptions<T = unknown> extends VerifyWebhookOptions {
  /** The route the plugin declares (`POST`), relative to the plugin's prefix. @example '/hooks' */
  path: string;
  /**
   * Called with each verified webhook. What it returns is sent, as a Fastify handler's value is; nothing
   * returned and nothing sent answers 204.
   */
  handler: (webhook: VerifiedWebhook<T>, request: FastifyRequestLike, reply: FastifyReplyLike) => unknown;
}

// Fastify's own registration options, passed along with the plugin's.
const FASTIFY_KEYS = ['path', 'handler', 'prefix', 'logLevel', 'logSerializers'];

/**
 * A Fastify plugin that declares `POST path` and verifies each request before `handler` sees it. Inside the
 * plugin's encapsulation, and there only, every content type is read as a raw Buffer (bounded by
 * `maxBodyBytes`), so the JSON parser of the rest of the app stays as it is. Refused requests are answered with
 * 400, 401 or 413 and `{ code, message }`, a duplicate with 200 (`{ duplicate: true }`), without calling
 * `handler`. With a `dedupe` store, the id is forgotten again unless the reply is a 2xx, so the sender's retry
 * is handled.
 *
 * @example
 * await app.register(fastifyWebhook, {
 *   path: '/hooks', secret, scheme: 'standard',
 *   handler: async (webhook) => { await handle(webhook.payload); },
 * });
 */
export async function fastifyWebhook(
  instance: FastifyInstanceLike,
  options: FastifyWebhookOptions,
): Promise<void> {
  const resolved = markResolved(resolveReceiverOptions(options, FASTIFY_KEYS));
  const { path, handler } = options;
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new OptionsError(
      'path',
      `Expected \`path\` to be a route path such as "/hooks", got ${String(path)}.`,
    );
  }
  if (typeof handler !== 'function')
    throw new OptionsError('handler', 'Expected `handler` to be a function.');

  instance.removeAllContentTypeParsers();
  instance.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: resolved.maxBodyBytes },
    (_request, body, done) => done(null, body),
  );

  const pending = new WeakMap<object, string>();
  instance.addHook('onResponse', async (request, reply) => {
    const id = pending.get(request);
    if (id !== undefined && (reply.statusCode < 200 || reply.statusCode > 299)) await forget(resolved, id);
  });

  instance.post(path, async (request, reply) => {
    let webhook: VerifiedWebhook;
    try {
      webhook = await verifyFastify(request, resolved);
    } catch (error) {
      const { status, body } = errorBody(error);
      return reply.code(status).send(body);
    }
    if (webhook.id !== undefined) pending.set(request, webhook.id);
    const result = await handler(webhook, request, reply);
    if (result === undefined && !reply.sent) return reply.code(204).send();
    return result;
  });
}

function verifyFastify<T>(request: FastifyRequestLike, options: ResolvedReceiverOptions) {
  const body = request.body;
  return verifyResolved<T>(
    request.headers,
    body instanceof Uint8Array || typeof body === 'string' ? body : new Uint8Array(0),
    options,
  );
}
