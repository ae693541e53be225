import { WebhookError } from '../index.js';

/** Codes of requests a receiver refuses for what they carry rather than for their signature. */
export type WebhookRequestErrorCode = 'ERR_DUPLICATE_DELIVERY' | 'ERR_BODY_TOO_LARGE' | 'ERR_INVALID_PAYLOAD';

/**
 * A received request was refused for its body or because it was seen before. Signature problems are a
 * `SignatureVerificationError` instead. `status` is the HTTP status the middleware answers with.
 */
export class WebhookRequestError extends WebhookError {
  override name = 'WebhookRequestError';
  /** The `webhook-id` of the request, when known. */
  readonly webhookId: string | undefined;

  constructor(code: WebhookRequestErrorCode, message: string, webhookId?: string) {
    super(code, message);
    this.webhookId = webhookId;
  }
}

const STATUS: Partial<Record<string, number>> = {
  ERR_MISSING_HEADERS: 400,
  ERR_INVALID_PAYLOAD: 400,
  ERR_SIGNATURE_INVALID: 401,
  ERR_TIMESTAMP_OUT_OF_TOLERANCE: 401,
  ERR_BODY_TOO_LARGE: 413,
  // Answered with a 2xx so the sender stops retrying a message that was already handled.
  ERR_DUPLICATE_DELIVERY: 200,
};

/**
 * The HTTP status a receiver answers for an error of `verifyWebhookRequest()`: 400 missing headers or a body
 * that is not JSON, 401 a bad signature or a timestamp outside the window, 413 a body over `maxBodyBytes`, 200 a
 * duplicate (already handled, so the sender must stop retrying), 500 anything else.
 */
export function webhookErrorStatus(error: unknown): number {
  const code = error instanceof WebhookError ? error.code : undefined;
  return (code !== undefined && STATUS[code]) || 500;
}
