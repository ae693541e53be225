/** An error a transport throws for a failed attempt; `code` becomes the `DeliveryResult` error code. */
export class TransportError extends Error {
  override name = 'TransportError';
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * Any failure of a transport as a `TransportError` with a stable code: the error's own code (or its cause's), with
 * undici's names for timeouts, a closed connection and an unparseable answer turned into `TIMEOUT`, `ECONNRESET`
 * and `INVALID_RESPONSE`, the SSRF guard's into `BLOCKED_ADDRESS`, and `TRANSPORT_ERROR` when there is none.
 */
export function toTransportError(error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const err = (error ?? {}) as {
    code?: unknown;
    message?: unknown;
    name?: unknown;
    cause?: { code?: unknown };
  };
  const own =
    typeof err.code === 'string' ? err.code : typeof err.cause?.code === 'string' ? err.cause.code : '';
  let code = own || 'TRANSPORT_ERROR';
  if (TIMEOUT_CODES.has(code)) code = 'TIMEOUT';
  else if (code === 'ERR_BLOCKED_ADDRESS') code = 'BLOCKED_ADDRESS';
  else if (code === 'UND_ERR_SOCKET') code = 'ECONNRESET';
  else if (code.startsWith('HPE_') || err.name === 'HTTPParserError') code = 'INVALID_RESPONSE';
  const message = typeof err.message === 'string' ? err.message : String(error);
  return new TransportError(code, message, { cause: error });
}
