import { WebhookError } from '../index.js';

/** Codes the admin API adds to the library's own (`ERR_INVALID_WEBHOOK`, `ERR_WEBHOOK_NOT_FOUND`, ...). */
export type ApiErrorCode =
  | 'ERR_NOT_FOUND'
  | 'ERR_METHOD_NOT_ALLOWED'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_MALFORMED_JSON'
  | 'ERR_INVALID_PATCH'
  | 'ERR_PATCH_TEST_FAILED'
  | 'ERR_INVALID_QUERY'
  | 'ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_TENANT_RESOLVER'
  | 'ERR_INVALID_IDEMPOTENCY_KEY'
  | 'ERR_IDEMPOTENCY_KEY_REUSED'
  | 'ERR_INTERNAL';

/** An answer the API gives instead of a result: status, stable code, message, and the field when there is one. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    code: ApiErrorCode | (string & {}),
    message: string,
    options: { field?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.field = options.field;
    this.headers = options.headers;
  }
}

/** The status of each library error code the dispatcher may throw; anything else is a 500. */
const STATUS_BY_CODE: Record<string, number> = {
  ERR_INVALID_WEBHOOK: 422,
  ERR_INVALID_POLICY: 422,
  ERR_INVALID_TEMPLATE: 422,
  ERR_BLOCKED_ADDRESS: 422,
  ERR_INVALID_EVENT: 422,
  ERR_WEBHOOK_NOT_FOUND: 404,
  ERR_DELIVERY_NOT_FOUND: 404,
  ERR_TENANT_LIMIT: 409,
  ERR_CONFLICT: 409,
  ERR_WEBHOOK_DISABLED: 409,
  ERR_DISPATCHER_CLOSED: 503,
  ERR_STORE_TIMEOUT: 503,
  ERR_STORE_FAILED: 503,
  ERR_QUEUE_NO_TRANSACTIONS: 409,
  ERR_UNSUPPORTED: 501,
};

/**
 * Maps a thrown error to an ApiError. Library errors keep their code (and field); the message of an unexpected
 * error is not shown (it may carry internals), it is given to `onError`.
 */
export function toApiError(error: unknown, fallbackField?: string): ApiError {
  if (error instanceof ApiError) return error;
  // Library errors are matched by code, not class: a second copy of the package (ESM and CJS) throws its own class.
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  if (typeof code === 'string' && (error instanceof WebhookError || code.startsWith('ERR_'))) {
    const status = STATUS_BY_CODE[code];
    if (status !== undefined) {
      const own = (error as Error & { field?: unknown }).field;
      const field =
        typeof own === 'string' ? own : code === 'ERR_BLOCKED_ADDRESS' ? fallbackField : undefined;
      return new ApiError(status, code, (error as Error).message, { field, cause: error });
    }
  }
  return new ApiError(500, 'ERR_INTERNAL', 'Internal error', { cause: error });
}
