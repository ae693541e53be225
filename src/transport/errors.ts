import { brand, errorMessage, errorText, WebhookError } from '../core/errors.js';
import type { DeliveryErrorCode } from '../core/types.js';

/**
 * A failed attempt: `code` becomes the `DeliveryResult` error code (`TIMEOUT`, `ECONNRESET`, `BLOCKED_ADDRESS`, a
 * custom transport's own). A `WebhookError`, so `instanceof WebhookError` holds for it too.
 */
export class TransportError extends WebhookError {
  static {
    brand(TransportError, 'TransportError');
  }
  override name = 'TransportError';
  declare readonly code: DeliveryErrorCode | (string & {});
  constructor(code: DeliveryErrorCode | (string & {}), message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** Whether `value` is a `TransportError` from any copy of the package (same as `instanceof TransportError`). */
export function isTransportError(value: unknown): value is TransportError {
  return value instanceof TransportError;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
// The pool was closed or destroyed under the request: another attempt through it cannot succeed.
const CLOSED_CODES = new Set(['UND_ERR_DESTROYED', 'UND_ERR_CLOSED']);

/**
 * Any failure of a transport as a `TransportError` with a stable code, the same for the same failure whichever
 * built-in transport saw it (`fetch` wraps undici's error in a `TypeError` whose `cause` has the code):
 *
 * - the error's own string code, or its cause's (`ECONNREFUSED`, `ENOTFOUND`, TLS codes);
 * - undici's timeouts as `TIMEOUT`, a closed socket (`UND_ERR_SOCKET`) as `ECONNRESET`, an unparseable answer
 *   (`HPE_*`) as `INVALID_RESPONSE`, the SSRF guard's refusal as `BLOCKED_ADDRESS`, a closed or destroyed pool
 *   as `ABORTED`;
 * - an `AbortError` as `ABORTED` and a `TimeoutError` (`AbortSignal.timeout()`) as `TIMEOUT`;
 * - `TRANSPORT_ERROR` when there is no code at all.
 */
export function toTransportError(error: unknown): TransportError {
  try {
    return classify(error);
  } catch (readError) {
    // A value that throws when read (a hostile Proxy): the attempt still gets an outcome.
    const message = `the transport failed with a value that cannot be read (${errorMessage(readError)})`;
    return new TransportError('TRANSPORT_ERROR', message, { cause: error });
  }
}

function classify(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const err = (error ?? {}) as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown };
  const cause = (err.cause ?? {}) as { code?: unknown; name?: unknown };
  const own = typeof err.code === 'string' ? err.code : typeof cause.code === 'string' ? cause.code : '';
  let code = own || 'TRANSPORT_ERROR';
  if (TIMEOUT_CODES.has(code)) code = 'TIMEOUT';
  else if (CLOSED_CODES.has(code)) code = 'ABORTED';
  else if (code === 'ERR_BLOCKED_ADDRESS') code = 'BLOCKED_ADDRESS';
  else if (code === 'UND_ERR_SOCKET') code = 'ECONNRESET';
  else if (code.startsWith('HPE_') || err.name === 'HTTPParserError' || cause.name === 'HTTPParserError') {
    code = 'INVALID_RESPONSE';
  } else if (!own && err.name === 'TimeoutError') code = 'TIMEOUT';
  else if (!own && err.name === 'AbortError') code = 'ABORTED';
  const message = typeof err.message === 'string' ? err.message : errorText(error);
  return new TransportError(code, message, { cause: error });
}

/**
 * The error an aborted `signal` ends a `send()` with: its reason when that is a `TransportError` (the dispatcher
 * aborts with `TIMEOUT` at the deadline and `ABORTED` at a close deadline), `TIMEOUT` for a `TimeoutError`
 * (`AbortSignal.timeout()`), otherwise `ABORTED`.
 */
export function abortedError(reason: unknown): TransportError {
  if (reason instanceof TransportError) return reason;
  const name = (reason as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError')
    return new TransportError('TIMEOUT', 'the request timed out', { cause: reason });
  const detail = reason instanceof Error && reason.message ? `: ${reason.message}` : '';
  return new TransportError('ABORTED', `the request was aborted${detail}`, { cause: reason });
}
