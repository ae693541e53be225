import { OptionsError } from '../extend.js';
import { webhookErrorStatus } from './errors.js';
import { checkContentLength, readWebBody, type WebBodyLike } from './read-body.js';
import {
  markResolved,
  type ResolvedReceiverOptions,
  resolveReceiverOptions,
  type VerifiedWebhook,
  type VerifyWebhookOptions,
  verifyResolved,
} from './verify.js';

/**
 * The part of a fetch `Request` the verifier reads. Node's global `Request`, Hono's `c.req.raw`, Next.js route
 * handlers' and Workers' requests are all ones; it is spelled out so the types need neither the DOM lib nor
 * `@types/node`.
 */
export interface FetchRequestLike {
  readonly headers: { get(name: string): string | null };
  readonly body: WebBodyLike | null;
  readonly bodyUsed: boolean;
}

/** The global `Response` type when the program has one (DOM lib or `@types/node`), else a minimal shape. */
export type FetchResponse = typeof globalThis extends { Response: { prototype: infer R } }
  ? R
  : { readonly status: number };

/**
 * Verifies a fetch `Request`: reads the raw body (at most `maxBodyBytes`), checks the signature of the chosen
 * scheme and, for Standard Webhooks, the timestamp window; de-duplicates by `webhook-id` when a `dedupe` store
 * is given; parses the JSON body.
 *
 * @example
 * // Hono, Next.js route handlers, Workers, Bun, Deno
 * const webhook = await verifyWebhookRequest(request, { secret, scheme: 'standard' });
 * console.log(webhook.id, webhook.payload);
 * @throws {SignatureVerificationError} `ERR_MISSING_HEADERS`, `ERR_SIGNATURE_INVALID`,
 *   `ERR_TIMESTAMP_OUT_OF_TOLERANCE`.
 * @throws {WebhookRequestError} `ERR_BODY_TOO_LARGE`, `ERR_INVALID_PAYLOAD`, `ERR_DUPLICATE_DELIVERY`.
 * @throws {OptionsError} for invalid options or a request whose body was already read.
 */
export async function verifyWebhookRequest<T = unknown>(
  request: FetchRequestLike,
  options: VerifyWebhookOptions,
): Promise<VerifiedWebhook<T>> {
  return verifyFetch<T>(request, resolveReceiverOptions(options));
}

async function verifyFetch<T>(request: FetchRequestLike, options: ResolvedReceiverOptions) {
  if (request === null || typeof request !== 'object' || typeof request.headers?.get !== 'function') {
    throw new OptionsError('request', 'verifyWebhookRequest: expected a fetch Request.');
  }
  if (request.bodyUsed) {
    throw new OptionsError(
      'request',
      'verifyWebhookRequest: the request body was already read; verify before anything parses it.',
    );
  }
  checkContentLength(request.headers.get('content-length'), options.maxBodyBytes);
  const body = await readWebBody(request.body, options.maxBodyBytes);
  return verifyResolved<T>(request.headers, body, options);
}

/**
 * A fetch handler `(request) => Promise<Response>` that verifies each request and calls `handler` with the
 * verified webhook. Refused requests are answered without calling it: 400, 401 or 413 with
 * `{ "code", "message" }`, and a duplicate with 200 (`{ "duplicate": true }`). A `handler` that throws gets a
 * 500. With a `dedupe` store, the id is forgotten again when `handler` throws or answers a non-2xx status, so the
 * sender's retry is handled.
 *
 * @example
 * export const POST = fetchWebhookHandler({ secret, scheme: 'standard' }, async (webhook) => {
 *   await handle(webhook.payload);
 *   return new Response(null, { status: 204 });
 * });
 */
export function fetchWebhookHandler<T = unknown>(
  options: VerifyWebhookOptions,
  handler: (webhook: VerifiedWebhook<T>, request: FetchRequestLike) => FetchResponse | Promise<FetchResponse>,
): (request: FetchRequestLike) => Promise<FetchResponse> {
  const resolved = markResolved(resolveReceiverOptions(options));
  if (typeof handler !== 'function') {
    throw new OptionsError('handler', 'Expected `handler` to be a function.');
  }
  return async (request) => {
    let webhook: VerifiedWebhook<T>;
    try {
      webhook = await verifyFetch<T>(request, resolved);
    } catch (error) {
      return errorResponse(error);
    }
    let response: FetchResponse;
    try {
      response = await handler(webhook, request);
    } catch {
      await forget(resolved, webhook.id);
      return json(500, { code: 'ERR_HANDLER_FAILED', message: 'The webhook handler failed.' });
    }
    const status = (response as { status?: unknown } | null)?.status;
    if (typeof status !== 'number' || status < 200 || status > 299) await forget(resolved, webhook.id);
    return response;
  };
}

/** @internal Forgets a de-duplicated id after a failed handling; a store that fails here changes nothing. */
export async function forget(options: ResolvedReceiverOptions, id: string | undefined): Promise<void> {
  if (id === undefined || options.dedupe?.delete === undefined) return;
  try {
    await options.dedupe.delete(id);
  } catch {
    // The id stays remembered: the retry is then dropped as a duplicate, as without `delete`.
  }
}

/** @internal What the middleware answers for a refused request. */
export function errorBody(error: unknown): { status: number; body: Record<string, unknown> } {
  const status = webhookErrorStatus(error);
  if (status === 200) return { status, body: { duplicate: true } };
  if (status === 500)
    return { status, body: { code: 'ERR_INTERNAL', message: 'The webhook could not be verified.' } };
  const { code, message } = error as { code: string; message: string };
  return { status, body: { code, message } };
}

function errorResponse(error: unknown): FetchResponse {
  const { status, body } = errorBody(error);
  return json(status, body);
}

function json(status: number, body: unknown): FetchResponse {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  }) as FetchResponse;
}
